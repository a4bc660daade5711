/**
 * Imported first by main.ts, so this runs before the rest of the bundle is evaluated. Activation
 * time is counted as VS Code counts it: evaluating the bundle plus running `activate`, without the
 * time the extension host spends preparing the ExtensionContext in between.
 */
export const bundleLoadStart = performance.now();
