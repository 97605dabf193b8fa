/**
 * Progress on stderr for long CLI runs: nothing for the first second, then a redrawn bar on a
 * terminal, or one line every ten seconds when stderr is a file or a pipe.
 */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  const tty = stream.isTTY === true;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - started < 1000) return;
      if (now - lastDraw < (tty ? 100 : 10_000)) return;
      lastDraw = now;
      const share = total > 0 ? Math.min(1, done / total) : 0;
      const rate = Math.round(done / ((now - started) / 1000));
      const figures = `${done}/${total} (${Math.floor(share * 100)}%, ${rate}/s)`;
      if (tty) {
        const width = 30;
        const full = Math.round(share * width);
        stream.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${figures}`);
        drawn = true;
      } else {
        stream.write(`${label}: ${figures}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
