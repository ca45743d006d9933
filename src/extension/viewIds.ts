// The ids of the views and panels the manifest names: here, with nothing else, so the activation shell
// (entry.ts) can register them without loading the rest of the extension.
export const TASKS_VIEW_ID = 'wanStudio.tasks';
export const PLAYER_VIEW_TYPE = 'wanStudio.player';
export const GENERATOR_VIEW_TYPE = 'wanStudio.generator';

export const GALLERY_VIEW_ID = 'wanStudio.gallery';
/** The storyboard editor: a custom text editor over `*.wanboard.json`. */
export const STORYBOARD_VIEW_TYPE = 'wanStudio.storyboard';
