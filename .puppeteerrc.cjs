// The browser is never downloaded at install time: there may be no internet. The auditor
// resolves it at run time (PUPPETEER_EXECUTABLE_PATH, puppeteer's cache, then system paths).
module.exports = { skipDownload: true };
