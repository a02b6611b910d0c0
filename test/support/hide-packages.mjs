/**
 * `node --import ./test/support/hide-packages.mjs`: makes the packages named in SEEKDATA_TEST_HIDE
 * (comma-separated) fail to resolve in this thread, as on a platform where an optional dependency is
 * missing — for the decoder fallback tests. Not a test file. (Module hooks apply to the thread that
 * registers them: worker threads started with their own execArgv still see every package.)
 */
import { register } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

const hidden = (process.env.SEEKDATA_TEST_HIDE ?? '').split(',').filter((name) => name !== '');
register(new URL('./hide-packages-hooks.mjs', import.meta.url), { data: { hidden } });
