/**
 * The one place advkit's custom kernels and gradients are registered.
 * Each kernel or gradient lives in its own file beside this one.
 */
let registered = false;

export function registerAdvkitKernels(): void {
  if (registered) return;
  registered = true;
}
