/**
 * Imported first by main.ts, so this runs before the rest of the bundle is evaluated: activation
 * time is measured from here to the end of `activate`, module loading included.
 */
export const bundleLoadStart = performance.now();
