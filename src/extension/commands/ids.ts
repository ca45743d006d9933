/** Command ids contributed in package.json. Keep the two in sync. */
export const CommandIds = {
  setApiKey: 'wanStudio.setApiKey',
  clearApiKey: 'wanStudio.clearApiKey',
  showLog: 'wanStudio.showLog',
  testConnection: 'wanStudio.testConnection',
  playVideo: 'wanStudio.playVideo',
  openGenerator: 'wanStudio.openGenerator',
  generateFromImage: 'wanStudio.generateFromImage',
  morphImages: 'wanStudio.morphImages',
  continueVideo: 'wanStudio.continueVideo',
  useAsDrivingAudio: 'wanStudio.useAsDrivingAudio',
} as const;
