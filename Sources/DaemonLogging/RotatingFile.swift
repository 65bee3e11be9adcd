import Foundation

/// An append-only log file rotated daily: at the first write of a new day the file becomes
/// `PATH.YYYY-MM-DD` and only the newest `history` such files are kept. With `history` 0 the
/// file just grows. Used only from the log writer's queue.
struct RotatingFile {
    let path: String
    var history: Int
    private var handle: FileHandle?
    private var day: String?

    init(path: String, history: Int) {
        self.path = path
        self.history = history
    }

    mutating func write(_ line: String, at time: Date) {
        let today = RotatingFile.dayString(time)
        if history > 0, let day, day != today {
            rotate(previousDay: day)
        }
        if day == nil {
            day = existingFileDay() ?? today
            if history > 0, let day, day != today { rotate(previousDay: day) }
        }
        day = today
        if handle == nil { open() }
        handle?.write(Data((line + "\n").utf8))
    }

    private mutating func open() {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    /// The day the existing file was last written, so a restart on a later day still rotates.
    private func existingFileDay() -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return nil }
        return RotatingFile.dayString(modified)
    }

    private mutating func rotate(previousDay: String) {
        try? handle?.close()
        handle = nil
        let fileManager = FileManager.default
        let rotated = "\(path).\(previousDay)"
        if fileManager.fileExists(atPath: path) {
            try? fileManager.removeItem(atPath: rotated)
            try? fileManager.moveItem(atPath: path, toPath: rotated)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent + "."
        let old = ((try? fileManager.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [])
            .filter { $0.hasPrefix(base) }
            .sorted()
        for name in old.dropLast(history) {
            try? fileManager.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    static func dayString(_ date: Date) -> String {
        LogTime.day(date)
    }
}
