/// Which releases may go. Keeps the newest `keep`, and never, whatever
/// `keep` says, a release that is live, the rollback target, or run by a slot.
public enum Retention {
    public static func releasesToDelete(_ releases: [String], keep: Int, protected: Set<String>) -> [String] {
        let ours = releases.filter(AppLayout.isReleaseName).sorted(by: >) // newest first
        let kept = Set(ours.prefix(max(keep, 1)))
        return ours.filter { !kept.contains($0) && !protected.contains($0) }.sorted()
    }
}
