/** Module resolution hooks for hide-packages.mjs. Not a test file. */
let hidden = [];

export function initialize(data) {
  hidden = data.hidden;
}

export async function resolve(specifier, context, next) {
  if (hidden.includes(specifier)) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' (hidden by the test)`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
