/**
 * The only module that imports @vscode/webview-ui-toolkit. Its upstream is archived; keeping every
 * use behind these small factories makes a move to @vscode-elements/elements a one-file change.
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox } from '@vscode/webview-ui-toolkit';

// Only components whose templates set no inline style: the page's CSP allows no 'unsafe-inline'
// (vscode-badge and vscode-progress-ring bind style attributes). FAST reads the nonce for its own
// probe stylesheet from <meta property="csp-nonce">.
provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox());

export interface ButtonOptions {
  title?: string;
  appearance?: 'primary' | 'secondary' | 'icon';
  onClick: () => void;
}

export function button(label: string, options: ButtonOptions): HTMLElement & { disabled: boolean } {
  const b = document.createElement('vscode-button') as HTMLElement & { disabled: boolean; appearance: string };
  b.textContent = label;
  b.appearance = options.appearance ?? 'secondary';
  if (options.title) b.title = options.title;
  b.addEventListener('click', () => {
    if (!b.disabled) options.onClick();
  });
  return b;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}
