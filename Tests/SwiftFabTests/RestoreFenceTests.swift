import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// A restore pipes pg_restore's SQL into psql only when pg_restore fences it
/// with `\restrict` (psql then runs no backslash command a dump's names
/// could smuggle in); an older pg_restore restores by itself. The restore
/// command runs here for real, with stand-ins for the two tools that say
/// which version they are and record how they were called.
@Suite struct RestoreFenceTests {
    static let cases: [(version: String, fenced: Bool)] = [
        ("15.18 (Debian 15.18-0+deb12u1)", true), ("15.14", true), ("15.13", false),
        ("13.21", false), ("13.22", true), ("14.18", false), ("14.19", true),
        ("16.9", false), ("16.10", true), ("17.5", false), ("17.6", true),
        ("18.0", true), ("18beta1", true), ("19devel", true), ("12.22", false), ("", false),
    ]

    @Test(arguments: cases) func onlyAFencedPgRestoreIsPipedIntoPsql(version: String, fenced: Bool) async throws {
        let dir = try TempDir.make().path
        let bin = dir + "/bin", log = dir + "/calls"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let tools = [
            "pg_restore": """
                #!/bin/sh
                if [ "$1" = --version ]; then [ -n "$FAKE_VERSION" ] && echo "pg_restore (PostgreSQL) $FAKE_VERSION"; exit 0; fi
                echo "pg_restore $*" >> "$CALLS"; cat > /dev/null; echo 'SELECT 1;'
                """,
            "psql": """
                #!/bin/sh
                echo "psql $*" >> "$CALLS"; cat > /dev/null
                """,
        ]
        for (name, text) in tools {
            try (text + "\n").write(toFile: bin + "/" + name, atomically: true, encoding: .utf8)
            chmod(bin + "/" + name, 0o755)
        }
        try "dump".write(toFile: dir + "/shop.dump", atomically: true, encoding: .utf8)
        let commands = PostgresCommands(config: PostgresConfig(database: "shop", user: "shop", backups: dir))
        let result = await Shell.runLocally(["/bin/sh", "-c", try commands.restore("shop.dump").rendered()],
                                            environment: ["PATH": bin + ":/usr/bin:/bin", "FAKE_VERSION": version, "CALLS": log])
        #expect(result.status == 0, "\(result.output)")
        let calls = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if fenced {
            #expect(calls.contains("pg_restore --clean --if-exists --single-transaction --exit-on-error -f -")
                    && calls.contains("psql -X -q -A -t -v ON_ERROR_STOP=1 -U shop -d shop"), "\(calls)")
            #expect(!result.output.contains(RestoreTransaction.unknownLine))
        } else {
            #expect(calls == "pg_restore --clean --if-exists --single-transaction --exit-on-error -U shop -d shop\n", "\(calls)")
            #expect(result.output.contains(RestoreTransaction.unknownLine))
        }
    }
}
