#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx's ESM loader, no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli();
