import ArgumentParser

// The SwiftFab library has its own Option, Flag and Argument (a Deployfile
// task's typed options); in this target the names are the parser's.
typealias Option<Value> = ArgumentParser.Option<Value>
typealias Flag<Value> = ArgumentParser.Flag<Value>
typealias Argument<Value> = ArgumentParser.Argument<Value>
