// es_new_client results (reference driverkit-rigs-es-ne.md §D.1) and what fixes each, for eslogger's
// stderr and for an ES extension's own `failed: es_new_client …` log line (contract §5). The full
// stderr line of eslogger is not in the reference: the constant is found anywhere in the text.

export const ES_NEW_CLIENT_RESULTS = [
  'ES_NEW_CLIENT_RESULT_SUCCESS',
  'ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT',
  'ES_NEW_CLIENT_RESULT_ERR_INTERNAL',
  'ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED',
  'ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED',
  'ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED',
  'ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS',
] as const;

export type EsNewClientResult = (typeof ES_NEW_CLIENT_RESULTS)[number];

/** Who the client is: eslogger (run by dextbench) or an ES extension (by its bundle id). */
export type EsClientKind = { kind: 'eslogger' } | { kind: 'extension'; bundle: string };

/** The first es_new_client result named in `text` (longest names first: NOT_PERMITTED is not NOT_PRIVILEGED). */
export function findNewClientResult(text: string): EsNewClientResult | undefined {
  const m = /ES_NEW_CLIENT_RESULT_(?:SUCCESS|ERR_[A-Z_]+)/.exec(text);
  return m && (ES_NEW_CLIENT_RESULTS as readonly string[]).includes(m[0]) ? m[0] as EsNewClientResult : undefined;
}

/** What to do about a failed es_new_client, for that client. */
export function newClientFix(result: EsNewClientResult, client: EsClientKind): string {
  switch (result) {
    case 'ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED':
      return client.kind === 'eslogger'
        ? 'grant Full Disk Access (System Settings › Privacy & Security) to what starts eslogger on the Mac: the terminal, or the ssh server for a rig reached over ssh'
        : `grant Full Disk Access to ${client.bundle}, or install the profile: dextbench profile --es ${client.bundle}`;
    case 'ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED':
      return client.kind === 'eslogger'
        ? 'eslogger must run as root: give the rig\'s user passwordless sudo for /usr/bin/eslogger (dextbench provision writes the rule)'
        : 'the ES client must run as root (a system extension does; a helper started by hand does not)';
    case 'ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED':
      return 'sign it with the com.apple.developer.endpoint-security.client entitlement (and a profile that allows it)';
    case 'ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS':
      return 'too many ES clients are running: stop other eslogger processes or ES clients on the Mac';
    case 'ES_NEW_CLIENT_RESULT_ERR_INTERNAL':
      return 'the ES subsystem did not answer: reboot the Mac';
    case 'ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT':
      return 'the client passed invalid arguments to es_new_client (a bug in the client)';
    case 'ES_NEW_CLIENT_RESULT_SUCCESS':
      return 'nothing to fix';
  }
}
