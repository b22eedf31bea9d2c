/**
 * Start the explorer on localhost: the Vite dev server (no build step), or a
 * preview server over the built bundle (built first when missing or asked).
 * Used by `advkit explore` and the browser tests.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, createServer, preview } from 'vite';
import { type ExplorerConfigOptions, explorerConfig } from './config.js';

export interface StartExplorerOptions extends ExplorerConfigOptions {
  /** 'dev' (default): Vite dev server. 'preview': serve the built bundle. */
  mode?: 'dev' | 'preview';
  /** Build the bundle even if it exists (preview mode). */
  rebuild?: boolean;
  host?: string;
  /** 0 picks a free port. Default 5175. */
  port?: number;
  /** Fail instead of trying the next port when `port` is taken. */
  strictPort?: boolean;
  /**
   * Dev mode: reload the page when a source file changes (default true).
   * Tests turn it off: with a fresh dependency cache, Vite's watcher keeps
   * file watchers open after `close()`, and the process never exits.
   */
  watch?: boolean;
}

export interface RunningExplorer {
  url: string;
  mode: 'dev' | 'preview';
  close(): Promise<void>;
}

/** Build the explorer bundle into `outDir` (default explorer/dist). */
export async function buildExplorer(options: ExplorerConfigOptions = {}): Promise<string> {
  const config = explorerConfig(options);
  await build(config);
  return config.build?.outDir as string;
}

export async function startExplorer(options: StartExplorerOptions = {}): Promise<RunningExplorer> {
  const mode = options.mode ?? 'dev';
  const config = explorerConfig(options);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 5175;
  const strictPort = options.strictPort ?? false;
  if (mode === 'preview') {
    const outDir = config.build?.outDir as string;
    if (options.rebuild || !existsSync(path.join(outDir, 'index.html'))) await build(config);
    const server = await preview({ ...config, preview: { host, port, strictPort } });
    const url = server.resolvedUrls?.local[0] ?? `http://${host}:${port}/`;
    return { url, mode, close: () => server.close() };
  }
  const server = await createServer({
    ...config,
    server: {
      ...config.server,
      host,
      port,
      strictPort,
      ...(options.watch === false ? { watch: null } : {}),
    },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? `http://${host}:${port}/`;
  return { url, mode, close: () => server.close() };
}
