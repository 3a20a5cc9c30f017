/** Waits until `set` is empty or `ms` passed (calling `tick` on every turn), then destroys what is left. */
export async function drain(set: Set<{ destroy(): void }>, ms: number, tick?: (now: number) => void): Promise<void> {
  if (set.size > 0 && ms > 0) {
    const deadline = Date.now() + ms;
    while (set.size > 0 && Date.now() < deadline) {
      tick?.(Date.now());
      await new Promise((r) => setTimeout(r, Math.min(25, Math.max(1, deadline - Date.now()))));
    }
  }
  for (const c of [...set]) c.destroy();
  while (set.size > 0) await new Promise((r) => setTimeout(r, 5));
}
