import { callError, type Engine } from './engine.js';
import { ImageUnavailableError, LaunchAbortedError, engineMessage, engineStatus } from './errors.js';

/**
 * Uses the local image, or pulls it (bounded by `pullTimeoutMs`); `signal`
 * aborts a pull. `hide` takes environment values out of the engine's words.
 */
export async function ensureImage(engine: Engine, ref: string, pullTimeoutMs: number, progress: (msg: string) => void, signal: AbortSignal, hide: (engineText: string) => string): Promise<void> {
  progress(`checking image ${ref}`);
  try {
    await engine.call(`cannot inspect image ${ref}`, (d) => d.getImage(ref).inspect(), { signal });
    return;
  } catch (err) {
    if (signal.aborted) throw new LaunchAbortedError();
    if (engineStatus(err) !== 404) throw callError(`cannot inspect image ${ref}`, err, hide);
  }
  progress(`image ${ref} is not present: pulling it`);
  const timeout = AbortSignal.timeout(pullTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    const docker = engine.docker;
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
    throw new ImageUnavailableError(ref, hide(engineMessage(err)));
  }
  progress(`pulled image ${ref}`);
}
