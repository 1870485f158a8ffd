namespace Autograd.Nn.Serialization;

/// <summary>
/// A safetensors file or checkpoint is malformed, truncated, inconsistent, or lacks what the
/// reader needs. The message is one line that says what is wrong (and, where known, the file).
/// </summary>
/// <remarks>
/// Derives from <see cref="FormatException"/> (<see cref="InvalidDataException"/> is sealed),
/// so callers that handle malformed input generally can catch that instead.
/// </remarks>
public sealed class CheckpointFormatException : FormatException
{
    /// <summary>Creates the exception with a one-line message.</summary>
    /// <param name="message">Names the file and the problem, on one line.</param>
    public CheckpointFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line message and the error that caused it.</summary>
    /// <param name="message">Names the file and the problem, on one line.</param>
    /// <param name="innerException">The cause (e.g. a JSON error in the header).</param>
    public CheckpointFormatException(string message, Exception innerException) : base(message, innerException) { }
}
