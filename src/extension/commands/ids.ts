/** Command ids contributed in package.json. Keep the two in sync. */
export const CommandIds = {
  setApiKey: 'wanStudio.setApiKey',
  clearApiKey: 'wanStudio.clearApiKey',
  showLog: 'wanStudio.showLog',
  testConnection: 'wanStudio.testConnection',
  playVideo: 'wanStudio.playVideo',
} as const;
