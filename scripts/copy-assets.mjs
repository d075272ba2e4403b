// Copies non-TypeScript assets the compiled code reads at run time (SQL migrations and shipped SQL)
// from src/ to dist/, keeping their folders. Run by `npm run build` after tsc.
import { cp } from 'node:fs/promises';

await cp('src', 'dist', {
  recursive: true,
  filter: (source) => !/\.ts$/.test(source),
});
