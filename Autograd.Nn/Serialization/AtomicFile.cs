using System.Text;

namespace Autograd.Nn.Serialization;

/// <summary>
/// Writes files so that a crash or an error never leaves a half-written one: the content goes to a
/// temporary file in the same folder, is flushed to disk (fsync), and then renamed over the target.
/// Readers see either the old file or the new one. Every file this library and its tools write goes
/// through here (checkpoints, state dicts, ONNX models, loss curves, plots).
/// </summary>
/// <remarks>
/// The temporary file is named <c>.{name}.{random}.tmp</c> beside the target, so the rename stays on
/// one file system (where it is atomic), and is deleted if writing fails. The folder itself is not
/// created (as with <see cref="File.WriteAllText(string, string?)"/>) and not fsynced: after a power
/// loss right after the rename, the old file may still be the one on disk, but never a torn one.
/// </remarks>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Creates or replaces <paramref name="path"/> with what <paramref name="write"/> writes to the
    /// stream it is given (a new, empty, write-only file stream; do not dispose it).
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Writes the whole content. If it throws, the target is left as it was and the exception propagates.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="write"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a folder rather than a file.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed (e.g. the disk is full).</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied, or <paramref name="path"/> is an existing folder.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        if (name.Length == 0)
            throw new ArgumentException($"AtomicFile.Write: '{path}' names a folder, not a file.", nameof(path));
        string folder = Path.GetDirectoryName(full)!;
        string temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Creates or replaces <paramref name="path"/> with <paramref name="bytes"/>, atomically.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="bytes"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a folder rather than a file.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Creates or replaces <paramref name="path"/> with <paramref name="contents"/> in UTF-8 (no byte-order mark), atomically.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="contents"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a folder rather than a file.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        WriteAllBytes(path, Utf8NoBom.GetBytes(contents));
    }
}
