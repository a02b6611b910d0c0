/** A progress bar on stderr, drawn only when stderr is a terminal (clean logs in CI and pipes). */

export interface ProgressBar {
  update(done: number, total: number): void;
  done(): void;
}

const silent: ProgressBar = { update() {}, done() {} };

export function progressBar(label: string, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!enabled || stream.isTTY !== true) return silent;
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      const seconds = Math.max(0.001, (now - started) / 1000);
      const rate = done / 1e6 / seconds;
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB ${rate.toFixed(1)} MB/s `);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
