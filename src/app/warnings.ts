/**
 * Process warnings kindling knows to be harmless. kafkajs 2.2.4's request queue schedules a timer
 * with a negative delay, which Node 24 reports as a TimeoutNegativeWarning on every connection
 * (tulios/kafkajs#1751, src/network/requestQueue/index.js); that one warning is dropped, every other
 * warning reaches Node's own listeners unchanged.
 */
export const isKnownHarmless = (w: Error): boolean =>
  w.name === 'TimeoutNegativeWarning' && /[\\/]kafkajs[\\/]/.test(w.stack ?? '');

let installed = false;

export function filterKnownWarnings(proc: NodeJS.Process = process): void {
  if (installed) return;
  installed = true;
  const listeners = proc.listeners('warning');
  proc.removeAllListeners('warning');
  proc.on('warning', (w) => {
    if (isKnownHarmless(w)) return;
    for (const l of listeners) l(w);
  });
}
