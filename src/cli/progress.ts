import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total?: number, message?: string): void;
  stop(): void;
}

/** A progress bar on a terminal; on a pipe or in CI, a line at every tenth of the way. */
export function createProgress(label: string): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} {message}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total = done, message = '') {
        if (!started) {
          bar.start(total, done, { message });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { message });
      },
      stop: () => bar.stop(),
    };
  }
  let lastDecile = -1;
  return {
    update(done, total, message = '') {
      const decile = total ? Math.floor((done / total) * 10) : -1;
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${label}: ${done}/${total ?? '?'} ${message}\n`);
      }
    },
    stop: () => undefined,
  };
}
