/**
 * The app reads the operator console's files from console/ three folders above its routes, which
 * is the project root for src/ and dist/. The bench compiles src/ into build/bench/src/, so it
 * links build/bench/console to the project's console/ before it builds an app in process.
 */
import { existsSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function linkConsoleAssets(): void {
  const link = fileURLToPath(new URL('../console', import.meta.url));
  const target = fileURLToPath(new URL('../../../console', import.meta.url));
  if (!existsSync(link) && existsSync(target)) symlinkSync(target, link, 'dir');
}
