import type Docker from 'dockerode';
import { DockerCallError, ImageUnavailableError, LaunchAbortedError, engineMessage, engineStatus } from './errors.js';

/** Uses the local image, or pulls it (bounded by `pullTimeoutMs`); `signal` aborts a pull. */
export async function ensureImage(docker: Docker, ref: string, pullTimeoutMs: number, progress: (msg: string) => void, signal: AbortSignal): Promise<void> {
  progress(`checking image ${ref}`);
  try {
    await docker.getImage(ref).inspect();
    return;
  } catch (err) {
    if (engineStatus(err) !== 404) throw new DockerCallError(`cannot inspect image ${ref}`, engineMessage(err), engineStatus(err));
  }
  progress(`image ${ref} is not present: pulling it`);
  const timeout = AbortSignal.timeout(pullTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    const stream = await docker.pull(ref, { abortSignal: both });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        reject(new Error(timeout.aborted ? `timed out after ${pullTimeoutMs / 1000} s` : 'aborted'));
      };
      both.addEventListener('abort', onAbort, { once: true });
      docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
        both.removeEventListener('abort', onAbort);
        const failed = err ?? (events ?? []).find((e) => e.error !== undefined);
        if (failed) reject(new Error(failed instanceof Error ? failed.message : (failed.errorDetail?.message ?? failed.error)));
        else resolve();
      });
    });
  } catch (err) {
    if (signal.aborted) throw new LaunchAbortedError();
    throw new ImageUnavailableError(ref, engineMessage(err));
  }
  progress(`pulled image ${ref}`);
}
