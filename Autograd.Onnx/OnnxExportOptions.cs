using Autograd.Nn;

namespace Autograd.Onnx;

/// <summary>How the exported graph takes its input.</summary>
public enum OnnxInputKind
{
    /// <summary>
    /// Class ids, graph input <c>ids</c> of type int64, shape (batch, time) (or (time, batch) when
    /// not batch-first): the same as <see cref="RnnModel{T}.ForwardOneHot(int[], int, int, int)"/> with the first layer's
    /// input size as the vocabulary. An id outside [0, vocabulary) is rejected by the runtime's Gather.
    /// </summary>
    Ids,

    /// <summary>
    /// Float features (one-hot rows or anything else), graph input <c>features</c> of type float,
    /// shape (batch, time, F) (or (time, batch, F) when not batch-first): the same as
    /// <see cref="RnnModel{T}.Forward(Tensor{T})"/>.
    /// </summary>
    Features,
}

/// <summary>Choices for <see cref="OnnxExporter"/>. The defaults suit a character model: ids in, batch-first, state in and out.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Ids (default) or float features; see <see cref="OnnxInputKind"/>.</summary>
    public OnnxInputKind Input { get; init; } = OnnxInputKind.Ids;

    /// <summary>
    /// True (default): input (batch, time[, F]) and output (batch, time, O), like the library's
    /// <c>Forward</c>. False: time-major (time, batch[, F]) and (time, batch, O), ONNX's native
    /// recurrent layout, which saves the two Transpose nodes.
    /// </summary>
    public bool BatchFirst { get; init; } = true;

    /// <summary>
    /// True (default): every layer gets graph inputs <c>initial_h_{i}</c> (and <c>initial_c_{i}</c> for
    /// LSTM), float (directions, batch, H), which the caller must feed (zeros for a fresh start). False: the
    /// recurrent nodes get no initial state and every run starts from zeros. The final states are
    /// graph outputs either way.
    /// </summary>
    public bool StateInputs { get; init; } = true;

    /// <summary>
    /// True: the graph takes <c>sequence_lens</c>, int32 (batch), each sequence's length in 1..time, and runs
    /// a padded batch as the library's <c>Forward(input, lengths)</c> does (outputs zero past a length, final
    /// states at each sequence's last valid step, the reverse direction reversed within each length).
    /// False (default): every sequence runs the full length.
    /// </summary>
    public bool SequenceLengths { get; init; }

    /// <summary>
    /// The tokens, index = class id, stored in the model's metadata_props under <c>vocabulary</c> as a
    /// JSON array of strings. With <see cref="OnnxInputKind.Ids"/> its length must equal the first
    /// layer's input size. Null: no vocabulary is stored.
    /// </summary>
    public IReadOnlyList<string>? Vocabulary { get; init; }

    /// <summary>Extra metadata_props entries; a key the exporter itself writes is rejected.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The model's doc_string (free text), or null.</summary>
    public string? Description { get; init; }

    /// <summary>The defaults.</summary>
    public static OnnxExportOptions Default { get; } = new();
}
