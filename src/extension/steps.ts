import * as vscode from 'vscode';
import { describeError } from '../core/errors';

/** What a step answers when the user pressed its Back button. */
export const BACK = Symbol('back');
export type StepAnswer<T> = T | typeof BACK | undefined;

interface StepCommon {
  title: string;
  step: number;
  totalSteps: number;
}

/**
 * One text step of a multi-step prompt (VS Code's InputBox with step counter): resolves to the
 * text, to BACK when its Back button (from the second step on) was pressed, or undefined on Esc.
 * Enter is refused while `validate` reports a problem.
 */
export function inputStep(o: StepCommon & { prompt: string; value?: string; placeholder?: string; validate?: (value: string) => string | undefined }): Promise<StepAnswer<string>> {
  const input = vscode.window.createInputBox();
  Object.assign(input, { title: o.title, step: o.step, totalSteps: o.totalSteps, prompt: o.prompt, value: o.value ?? '', placeholder: o.placeholder, ignoreFocusOut: true });
  const check = () => (input.validationMessage = o.validate?.(input.value));
  check();
  input.onDidChangeValue(check);
  return askStep<string>(input, o.step, (finish) => input.onDidAccept(() => !check() && finish(input.value)));
}

/** One pick step of a multi-step prompt, with a Back button from the second step on. */
export function pickStep<T extends vscode.QuickPickItem>(o: StepCommon & { placeholder: string; items: T[] }): Promise<StepAnswer<T>> {
  const pick = vscode.window.createQuickPick<T>();
  Object.assign(pick, { title: o.title, step: o.step, totalSteps: o.totalSteps, placeholder: o.placeholder, items: o.items, ignoreFocusOut: true });
  return askStep<T>(pick, o.step, (finish) => pick.onDidAccept(() => pick.selectedItems[0] && finish(pick.selectedItems[0])));
}

/**
 * Shows a step's input box or pick with a Back button from the second step on, and answers once:
 * BACK, what `onAnswer` passes to `finish`, or undefined when it is hidden (Esc); then disposes it.
 */
function askStep<T>(
  widget: vscode.QuickInput & { buttons: readonly vscode.QuickInputButton[]; readonly onDidTriggerButton: vscode.Event<vscode.QuickInputButton> },
  step: number,
  onAnswer: (finish: (answer: StepAnswer<T>) => void) => void,
): Promise<StepAnswer<T>> {
  return new Promise((resolve) => {
    widget.buttons = step > 1 ? [vscode.QuickInputButtons.Back] : [];
    let done = false;
    const finish = (answer: StepAnswer<T>) => {
      if (done) return;
      done = true;
      resolve(answer);
      widget.dispose();
    };
    widget.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
    widget.onDidHide(() => finish(undefined));
    onAnswer(finish);
    widget.show();
  });
}

/** The validation message of a check that throws, for an input box; undefined when valid. */
export function problem(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return describeError(e);
  }
}
