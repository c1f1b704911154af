/// What a task's plan may know about the run it is planned for, passed down
/// explicitly (never read from process-wide state): whether it is a dry run,
/// how output is written, and where the Deployfile is.
public struct RunContext: Sendable, Equatable {
    /// `--dry-run`: plan the exact commands, run nothing.
    public var dryRun: Bool
    /// `--json`: results are written as JSON lines.
    public var json: Bool
    /// `-v`: show every command's details.
    public var verbose: Bool
    /// The folder of the Deployfile: relative paths in it are relative to this.
    public var deployfileDirectory: String
    /// The environment chosen with `-e` (or the only one), if any.
    public var environment: String?

    public init(dryRun: Bool = false, json: Bool = false, verbose: Bool = false, deployfileDirectory: String,
                environment: String? = nil) {
        self.dryRun = dryRun
        self.json = json
        self.verbose = verbose
        self.deployfileDirectory = deployfileDirectory
        self.environment = environment
    }

    /// `path` as the Deployfile means it: relative to its folder.
    public func path(_ path: String) -> String {
        path.hasPrefix("/") ? path : deployfileDirectory + "/" + path
    }
}
