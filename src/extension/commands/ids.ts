/**
 * Every command the manifest contributes. The registry (registry.ts) must have a factory for each (the
 * type checker sees to that), and test/unit/manifest.test.ts fails when this list and package.json differ.
 * No vscode import, so plain Node tests can read it.
 */
export const CommandIds = {
  setApiKey: 'wanStudio.setApiKey',
  clearApiKey: 'wanStudio.clearApiKey',
  showLog: 'wanStudio.showLog',
  openSettings: 'wanStudio.openSettings',
  testConnection: 'wanStudio.testConnection',
  playVideo: 'wanStudio.playVideo',
  generate: 'wanStudio.generate',
  addTaskById: 'wanStudio.addTaskById',
  syncFromAccount: 'wanStudio.syncFromAccount',
  clearFinished: 'wanStudio.clearFinished',
  playTask: 'wanStudio.task.play',
  revealTask: 'wanStudio.task.reveal',
  cancelTask: 'wanStudio.task.cancel',
  retryDownload: 'wanStudio.task.retryDownload',
  copyTaskId: 'wanStudio.task.copyId',
  copyPrompt: 'wanStudio.task.copyPrompt',
  generateAgain: 'wanStudio.task.generateAgain',
  continueTask: 'wanStudio.task.continueVideo',
  lookAgain: 'wanStudio.task.lookAgain',
  createAgain: 'wanStudio.task.createAgain',
  removeTask: 'wanStudio.task.remove',
  showTaskDetails: 'wanStudio.task.showDetails',
  openGenerator: 'wanStudio.openGenerator',
  generateFromImage: 'wanStudio.generateFromImage',
  morphImages: 'wanStudio.morphImages',
  continueVideo: 'wanStudio.continueVideo',
  useAsDrivingAudio: 'wanStudio.useAsDrivingAudio',
  deleteVideo: 'wanStudio.deleteVideo',
  refreshGallery: 'wanStudio.gallery.refresh',
  newStoryboard: 'wanStudio.newStoryboard',
  makeStoryboard: 'wanStudio.makeStoryboard',
  generateStoryboard: 'wanStudio.storyboard.generate',
  assembleStoryboard: 'wanStudio.storyboard.assemble',
} as const;

export type CommandKey = keyof typeof CommandIds;
export type CommandId = (typeof CommandIds)[CommandKey];
