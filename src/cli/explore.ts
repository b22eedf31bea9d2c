/**
 * `advkit explore`: serve the explorer (explorer/, a Vite app over the public
 * entry point) on localhost and print its URL. The server module lives beside
 * the app, outside src/, and is loaded through tsx at run time, so this works
 * both from the sources and from the compiled CLI in a checkout.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, defineCommand, note, print } from './command.js';
import { text, toggle, UsageError, value } from './flags.js';

interface ExplorerServer {
  startExplorer(options: {
    mode?: 'dev' | 'preview';
    rebuild?: boolean;
    host?: string;
    port?: number;
    strictPort?: boolean;
    modelsDir?: string;
  }): Promise<{ url: string; mode: string; close(): Promise<void> }>;
}

/** explorer/server.ts, two levels up from src/cli/ (or dist/cli/). */
function serverModule(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = path.resolve(here, '..', '..', 'explorer', 'server.ts');
  if (!existsSync(file)) {
    throw new UsageError(
      `the explorer is not in this installation (looked for ${file}); run advkit explore from a checkout of advkit`,
    );
  }
  return file;
}

/** A TCP port: 0 (any free one) to 65535. */
function port(raw: string, flag: string): number {
  const t = raw.trim();
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new UsageError(
      `--${flag} must be an integer from 0 to 65535; received ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

const flags = {
  port: value('N', port, 'port to listen on (the next free one if taken)', {
    default: 5175,
    short: 'p',
  }),
  host: value('HOST', text, 'interface to bind; keep it local unless you mean to share', {
    default: '127.0.0.1',
  }),
  models: value('DIR', text, 'directory of models to list (sub-directories with model.json)', {
    defaultText: '<advkit>/models',
  }),
  preview: toggle('serve the built bundle (explorer/dist; built first when missing): the default'),
  rebuild: toggle('build the bundle again first (after editing the explorer or the library)'),
  dev: toggle(
    "Vite's dev server instead (live sources; serves the library's src/ and the explorer, nothing else of the checkout)",
  ),
};

export const exploreCommand: Command<typeof flags> = defineCommand({
  name: 'explore',
  summary: 'open the FGSM explorer in the browser (serves it on localhost)',
  usage: '[--port N] [--host HOST] [--models DIR] [--rebuild | --dev]',
  description:
    'Serves the explorer: pick a model and an MNIST sample (or draw or upload a digit), move ε and\n' +
    'watch the perturbation, the adversarial image, the top-5 before and after, and the loss against\n' +
    'its first-order prediction. Runs until interrupted (Ctrl-C). The page computes in the browser\n' +
    '(webgl, else wasm, else cpu); nothing is fetched from outside localhost.',
  examples: [
    'advkit explore',
    'advkit explore --port 8080 --models ./my-models',
    'advkit explore --rebuild',
    'advkit explore --dev',
  ],
  flags,
  async run(f) {
    if (f.dev && (f.preview || f.rebuild)) {
      throw new UsageError(
        `--dev and --${f.preview ? 'preview' : 'rebuild'} do not combine: --dev serves the live sources, the default serves the built bundle`,
      );
    }
    const { startExplorer } = (await import('tsx/esm/api').then((tsx) =>
      tsx.tsImport(serverModule(), import.meta.url),
    )) as ExplorerServer;
    note(false, f.dev ? 'starting the explorer dev server…' : 'serving the explorer bundle…');
    const server = await startExplorer({
      mode: f.dev ? 'dev' : 'preview',
      rebuild: f.rebuild,
      host: f.host,
      port: f.port,
      modelsDir: f.models ? path.resolve(f.models) : undefined,
    });
    print(`advkit explorer: ${server.url}`);
    note(false, 'press Ctrl-C to stop');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
});
