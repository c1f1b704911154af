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
    /// Where a task's questions go (a confirmation before a restore).
    public var prompter: Prompter

    public init(dryRun: Bool = false, json: Bool = false, verbose: Bool = false, deployfileDirectory: String,
                environment: String? = nil, prompter: Prompter = .terminal) {
        self.dryRun = dryRun
        self.json = json
        self.verbose = verbose
        self.deployfileDirectory = deployfileDirectory
        self.environment = environment
        self.prompter = prompter
    }

    /// The same run: what it was asked to do (the prompter is a service, not part of it).
    public static func == (lhs: RunContext, rhs: RunContext) -> Bool {
        (lhs.dryRun, lhs.json, lhs.verbose, lhs.deployfileDirectory, lhs.environment)
            == (rhs.dryRun, rhs.json, rhs.verbose, rhs.deployfileDirectory, rhs.environment)
    }

    /// `path` as the Deployfile means it: relative to its folder.
    public func path(_ path: String) -> String {
        path.hasPrefix("/") ? path : deployfileDirectory + "/" + path
    }
}
