import * as vscode from 'vscode';

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
  return new Promise((resolve) => {
    const input = vscode.window.createInputBox();
    Object.assign(input, { title: o.title, step: o.step, totalSteps: o.totalSteps, prompt: o.prompt, value: o.value ?? '', placeholder: o.placeholder, ignoreFocusOut: true });
    input.buttons = o.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    const check = () => (input.validationMessage = o.validate?.(input.value));
    check();
    let done = false;
    const finish = (answer: StepAnswer<string>) => {
      if (done) return;
      done = true;
      resolve(answer);
      input.dispose();
    };
    input.onDidChangeValue(check);
    input.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
    input.onDidAccept(() => !check() && finish(input.value));
    input.onDidHide(() => finish(undefined));
    input.show();
  });
}

/** One pick step of a multi-step prompt, with a Back button from the second step on. */
export function pickStep<T extends vscode.QuickPickItem>(o: StepCommon & { placeholder: string; items: T[] }): Promise<StepAnswer<T>> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<T>();
    Object.assign(pick, { title: o.title, step: o.step, totalSteps: o.totalSteps, placeholder: o.placeholder, items: o.items, ignoreFocusOut: true });
    pick.buttons = o.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    let done = false;
    const finish = (answer: StepAnswer<T>) => {
      if (done) return;
      done = true;
      resolve(answer);
      pick.dispose();
    };
    pick.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
    pick.onDidAccept(() => pick.selectedItems[0] && finish(pick.selectedItems[0]));
    pick.onDidHide(() => finish(undefined));
    pick.show();
  });
}
