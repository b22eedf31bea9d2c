/** advkit's version, recorded in every report (kept equal to package.json by a test). */
export const ADVKIT_VERSION = '0.1.0';
