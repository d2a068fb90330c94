// Loaded with --import: makes `etcd3` unresolvable, as in a project that did not install it.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'etcd3') {
    const error = new Error("Cannot find package 'etcd3'");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`)}`,
);
