/**
 * Pages read by a worker thread, consumed in order on this one. The worker keeps a page or two
 * ahead: it sends one page per credit and gets a credit back ('more') for each page taken here,
 * then sends null when done. So reading (and the CPU work done per page) runs on a second core
 * while this thread uses the previous page. Used on SQLite, where a worker opens the database
 * file read-only itself: `shiplog verify` (ledger-page-worker.ts) and archive segments
 * (segment-page-worker.ts).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The built worker next to this module, when there is one (not under the TypeScript sources). */
export function builtWorker(name: string): URL | undefined {
  const url = new URL(`./${name}.js`, import.meta.url);
  return fs.existsSync(fileURLToPath(url)) ? url : undefined;
}

export async function* workerPages<T>(url: URL, job: object): AsyncGenerator<T> {
  const worker = new Worker(url, { workerData: job });
  const queue: (T | null | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: T | null | Error) => {
    queue.push(item);
    wake?.();
  };
  worker.on('message', (page: T | null) => push(page));
  worker.on('error', (error) => push(error));
  try {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift();
      if (item === null || item === undefined) return;
      if (item instanceof Error) throw item;
      worker.postMessage('more');
      yield item;
    }
  } finally {
    await worker.terminate();
  }
}
