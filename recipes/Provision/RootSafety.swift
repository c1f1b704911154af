import SwiftFab

/// Shell functions that keep provision (which runs as root) from writing,
/// chowning or chmodding through a path that a less trusted user can change.
///
/// The deploy user owns the app's tree and its home: a link planted there
/// (`run -> /etc`, `authorized_keys -> /root/.ssh/authorized_keys`) would
/// turn root's `chown`, `chmod` or `>` into that user's write to a file of
/// root's. So, as sudo and OpenSSH's StrictModes judge paths:
/// - root writes only into folders that only root can change (`trusted`);
/// - what lives in a folder the deploy user owns is written *as* that user
///   (`as_user`), who can then reach nothing it could not reach already;
/// - a symbolic link where provision expects a file or folder is refused
///   (`no_link`), never followed, with what to do about it.
enum RootSafety {
    /// `trusted DIR`: DIR and every folder above it (those that exist) belong
    /// to root, and no one else can write them: not writable by group or
    /// others, unless sticky (like /tmp, whose entries only their owners can
    /// move; the entry below it must then be root's too, which the walk checks).
    /// A link on the way must be root's own, and so must the folder it leads to.
    ///
    /// `no_link PATH WHAT`: stops (exit 1) when PATH is a symbolic link.
    ///
    /// `as_user USER CMD...`: runs CMD as USER (runuser; root stays root).
    ///
    /// `by_trust DIR USER CMD...`: runs CMD as root when DIR is trusted, else as USER.
    ///
    /// `owner_dir DIR USER MODE [GROUP]`: makes DIR (if missing) and gives it to USER (and GROUP, else USER's own): made
    /// by root under a trusted parent, by USER under a parent USER owns,
    /// refused anywhere else; chowned without following a link (`-h`) and
    /// its mode set as USER, so a link swapped in meanwhile reaches nothing of root's
    /// (the mode is set while the folder is still USER's group's: a setgid bit set
    /// by its owner on another group's folder would be dropped; chown keeps it).
    static let functions: ShellString = #"""
        trusted() { _rs_d=$1; while :; do if [ -e "$_rs_d" ] || [ -L "$_rs_d" ]; then \
        [ "$(stat -c %u "$_rs_d")" = 0 ] && [ "$(stat -L -c %u "$_rs_d")" = 0 ] || return 1; _rs_m=$(stat -L -c %a "$_rs_d"); \
        case $_rs_m in ????) [ "${_rs_m%???}" -ge 1 ] 2>/dev/null && [ $(( ${_rs_m%???} % 2 )) = 1 ] && _rs_m=sticky;; esac; \
        if [ "$_rs_m" != sticky ]; then _rs_g=${_rs_m%?}; _rs_g=${_rs_g#"${_rs_g%?}"}; _rs_o=${_rs_m#"${_rs_m%?}"}; case $_rs_g$_rs_o in *[2367]*) return 1;; esac; fi; fi; \
        [ "$_rs_d" = / ] && return 0; _rs_d=$(dirname "$_rs_d"); done; }; \
        no_link() { if [ -L "$1" ]; then printf '%s is a symbolic link (to %s): provision (as root) follows no link that a less trusted user could have made; replace it with the real %s, then run provision again\n' "$1" "$(readlink "$1")" "$2" >&2; exit 1; fi; }; \
        as_user() { _rs_u=$1; shift; if [ "$(id -u "$_rs_u")" = "$(id -u)" ]; then "$@"; else runuser -u "$_rs_u" -- "$@"; fi; }; \
        by_trust() { if trusted "$1"; then shift 2; "$@"; else _rs_w=$2; shift 2; as_user "$_rs_w" "$@"; fi; }; \
        owner_dir() { no_link "$1" folder; if [ ! -d "$1" ]; then _rs_p=$(dirname "$1"); while [ ! -e "$_rs_p" ] && [ ! -L "$_rs_p" ]; do _rs_p=$(dirname "$_rs_p"); done; \
        if trusted "$_rs_p"; then mkdir -p "$1"; \
        elif [ ! -L "$_rs_p" ] && [ "$(stat -c %U "$_rs_p")" = "$2" ]; then as_user "$2" mkdir -p "$1"; \
        else printf '%s would be made inside %s, which %s (not root or %s) can change: provision (as root) makes no folder there; give it to root or %s, then run provision again\n' "$1" "$_rs_p" "$(stat -c %U "$_rs_p")" "$2" "$2" >&2; exit 1; fi; fi; \
        chown -h "$2:$(id -gn "$2")" "$1" && as_user "$2" chmod "$3" "$1" && { [ -z "$4" ] || chown -h "$2:$4" "$1"; }; }
        """#

    /// Stops (exit 1, saying why) unless `directory` is trusted: root's own
    /// files (sudoers, the proxy site, the boot script) go only there.
    static func requireTrusted(_ directory: String) -> ShellString {
        """
        trusted \(directory) || { printf '%s can be changed by a user other than root: provision (as root) writes its files only into folders that only root can change; make it and the folders above it belong to root, not writable by others, then run provision again\\n' \(directory) >&2; exit 1; }
        """
    }
}
