using System.Text;
using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>A corpus cannot be used: not UTF-8 text, empty, or too short. The message is one line.</summary>
public sealed class CorpusException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    /// <param name="message">Names the file and the problem, on one line.</param>
    public CorpusException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line message and its cause.</summary>
    /// <param name="message">Names the file and the problem, on one line.</param>
    /// <param name="innerException">The cause (e.g. a decoder error).</param>
    public CorpusException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Loading and splitting the text a character-level model trains on.</summary>
public static class TextCorpus
{
    /// <summary>The largest corpus file read (it is held in memory as a string and as ids).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads a UTF-8 text file (a leading byte-order mark is dropped).
    /// </summary>
    /// <param name="path">The file (at most <see cref="MaxFileBytes"/>).</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    /// <exception cref="CorpusException">The file is a folder, empty, too large, not valid UTF-8, or binary.</exception>
    public static string LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new CorpusException($"{path}: is a directory, not a text file.");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        if (length > MaxFileBytes)
            throw new CorpusException($"{path}: file is {length} bytes, more than the {MaxFileBytes} accepted.");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Decode(bytes, path);
    }

    /// <summary>Decodes UTF-8 text bytes, refusing empty, invalid or binary data.</summary>
    /// <param name="bytes">The file's bytes.</param>
    /// <param name="source">A name for error messages.</param>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="CorpusException">The bytes are empty, not valid UTF-8, or binary (NUL bytes or mostly control characters).</exception>
    public static string Decode(ReadOnlySpan<byte> bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[3..];
        if (bytes.IsEmpty)
            throw new CorpusException($"{source}: the file is empty.");
        if (bytes.Contains((byte)0))
            throw new CorpusException($"{source}: looks like a binary file (it contains NUL bytes), not UTF-8 text.");
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CorpusException($"{source}: not valid UTF-8 text (invalid byte sequence at byte {e.Index}); is it a binary file?", e);
        }
        // Text has few control characters besides tab and line breaks; binary data decoded by chance has many.
        int control = 0;
        foreach (char c in text)
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r' or '\f' or '\v'))
                control++;
        if (control > text.Length / 100 + 1)
            throw new CorpusException($"{source}: looks like a binary file ({control} control characters in {text.Length}), not text.");
        return text;
    }

    /// <summary>
    /// Splits a sequence by position: the first <paramref name="trainFraction"/> for training,
    /// the rest for validation (no shuffling, so validation text is unseen continuous text).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    public static (int[] Train, int[] Validation) Split(int[] ids, double trainFraction = 0.9)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "TextCorpus.Split: the training fraction must be in (0, 1).");
        int cut = (int)Math.Round(ids.Length * trainFraction);
        return (ids[..cut], ids[cut..]);
    }
}
