// The learned poll schedule: history → predicted end window → a schedule around it. No vscode import.
export * from './history';
export * from './predictor';
export * from './learned';
export * from './folder';
