// Disposal: everything the extension creates ends up in one store, disposed with the extension.
import type * as vscode from 'vscode';

/** A bag of disposables; anything added after it was disposed is disposed at once. */
export class DisposableStore implements vscode.Disposable {
  private readonly items = new Set<vscode.Disposable>();
  private disposed = false;

  add<T extends vscode.Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.add(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Last in, first out: later parts may depend on earlier ones.
    for (const item of [...this.items].reverse()) {
      try {
        item.dispose();
      } catch {
        /* one failing part must not keep the others alive */
      }
    }
    this.items.clear();
  }
}
