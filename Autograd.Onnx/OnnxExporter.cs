using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using global::Onnx;
using Autograd.Nn;
using Autograd.Nn.Serialization;

namespace Autograd.Onnx;

/// <summary>
/// Writes an <see cref="RnnModel{T}"/> of float as an ONNX model (opset <see cref="OpsetVersion"/>) built
/// from the standard operators only, so any ONNX runtime runs it.
/// </summary>
/// <remarks>
/// <para>The graph, with B = batch, T = time, per layer i (H_i hidden, O_i output, F_i its input size, D_i = 1 or 2 directions):</para>
/// <list type="bullet">
/// <item><description>Input <see cref="IdsInput"/> int64 (B, T) → Gather rows of a (F_0, F_0) identity table
/// (the one-hot encoding), or <see cref="FeaturesInput"/> float (B, T, F_0). Time-major (T, B, …) when
/// <see cref="OnnxExportOptions.BatchFirst"/> is false; otherwise a Transpose makes it so.</description></item>
/// <item><description>Per layer one ONNX node of the cell's operator (<see cref="RecurrentCell.OnnxOperator"/>:
/// <c>RNN</c> (Tanh), <c>GRU</c>, <c>LSTM</c>; no peepholes) with <c>direction</c> = <c>forward</c>, or
/// <c>bidirectional</c> for a <see cref="Bidirectional{T}"/> (both directions must share cell, hidden size and
/// form), its gates stacked in the cell's <see cref="RecurrentCell.OnnxGateOrder"/> and the cell's attributes
/// (GRU: <c>linear_before_reset</c> = 1 for <see cref="RecurrentOptions.GruResetAfter"/>, else 0). Each gate's bias
/// goes to Wb and its recurrent bias (<see cref="RecurrentOptions.RecurrentBias"/>) to Rb, zero without one.
/// Then each direction's output, projected by its W_v, B_v when the layer has them; directions concatenated on
/// the feature axis, forward first.</description></item>
/// <item><description>With <see cref="OnnxExportOptions.SequenceLengths"/>, input <see cref="SequenceLengthsInput"/>
/// int32 (B) feeds every node's <c>sequence_lens</c>: the reverse direction reads each sequence reversed within its
/// length, final states are each sequence's state after its last valid step, and the output is zero past a length,
/// as in the library's <c>Forward(input, lengths)</c>.</description></item>
/// <item><description>Inputs <c>initial_{name}_{i}</c> for each state component of the cell
/// (<see cref="InitialHidden"/>, <see cref="InitialCell"/> for LSTM), float (D_i, B, H_i), when
/// <see cref="OnnxExportOptions.StateInputs"/>; outputs <see cref="Output"/> float (B, T, O_last) and
/// <see cref="FinalHidden"/> / <see cref="FinalCell"/> float (D_i, B, H_i), the state after the last step.</description></item>
/// </list>
/// <para>Dropout between layers is a training-time thing and is not exported. The library's carried
/// state (<see cref="RecurrentLayer{T}.StartH"/>) is not baked in: feed it as the initial state inputs
/// (a (1, H) batch-mean state repeated over the batch).</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the graph is written for.</summary>
    public const int OpsetVersion = 17;

    /// <summary>Name of the int64 ids input (<see cref="OnnxInputKind.Ids"/>).</summary>
    public const string IdsInput = "ids";

    /// <summary>Name of the float features input (<see cref="OnnxInputKind.Features"/>).</summary>
    public const string FeaturesInput = "features";

    /// <summary>Name of the int32 (B) sequence lengths input (<see cref="OnnxExportOptions.SequenceLengths"/>).</summary>
    public const string SequenceLengthsInput = "sequence_lens";

    /// <summary>Name of the float output (B, T, O) of the last layer (logits for a character model).</summary>
    public const string Output = "output";

    /// <summary>Metadata key of the vocabulary (a JSON array of strings).</summary>
    public const string VocabularyKey = "vocabulary";

    private const int IrVersion = 8; // the IR that goes with opset 17

    private static readonly string[] ReservedKeys = [VocabularyKey, "input", "layout", "state_inputs", "sequence_lengths", "layers"];

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Name of layer <paramref name="layer"/>'s initial hidden state input, float (directions, batch, H).</summary>
    public static string InitialHidden(int layer) => InitialState("h", layer);

    /// <summary>Name of LSTM layer <paramref name="layer"/>'s initial cell state input, float (directions, batch, H).</summary>
    public static string InitialCell(int layer) => InitialState("c", layer);

    /// <summary>Name of layer <paramref name="layer"/>'s final hidden state output, float (directions, batch, H).</summary>
    public static string FinalHidden(int layer) => FinalState("h", layer);

    /// <summary>Name of LSTM layer <paramref name="layer"/>'s final cell state output, float (directions, batch, H).</summary>
    public static string FinalCell(int layer) => FinalState("c", layer);

    /// <summary>Name of the initial-state input of component <paramref name="component"/> (a <see cref="RecurrentCell.StateNames"/> entry) of layer <paramref name="layer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="component"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is negative.</exception>
    public static string InitialState(string component, int layer)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        return $"initial_{component}_{layer}";
    }

    /// <summary>Name of the final-state output of component <paramref name="component"/> of layer <paramref name="layer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="component"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is negative.</exception>
    public static string FinalState(string component, int layer)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        return $"final_{component}_{layer}";
    }

    /// <summary>
    /// Writes <paramref name="model"/> to the file <paramref name="path"/> (created or replaced)
    /// atomically through <see cref="AtomicFile"/>: a failure leaves the previous file, never half a model.
    /// </summary>
    /// <param name="model">A built model (after a forward pass, <see cref="RnnModel{T}.Build"/> or a loaded state dict).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">Null for <see cref="OnnxExportOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the options do not fit the model (vocabulary size, metadata keys).</exception>
    /// <exception cref="InvalidOperationException">A layer is not built, a layer's input size is not its predecessor's output size, or a layer's two directions are built for different input sizes.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    /// <exception cref="NotSupportedException">A bidirectional layer whose two directions differ in cell, hidden size or form (one ONNX node runs both).</exception>
    public static void Export(RnnModel<float> model, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var proto = BuildModel(model, options); // validate before touching the file
        AtomicFile.Write(path, proto.WriteTo);
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="stream"/> (a protobuf ModelProto; the stream is neither flushed nor closed).</summary>
    /// <param name="model">A built model (after a forward pass, <see cref="RnnModel{T}.Build"/> or a loaded state dict).</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="options">Null for <see cref="OnnxExportOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException">The options do not fit the model (vocabulary size, metadata keys).</exception>
    /// <exception cref="InvalidOperationException">A layer is not built, a layer's input size is not its predecessor's output size, or a layer's two directions are built for different input sizes.</exception>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public static void Export(RnnModel<float> model, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        BuildModel(model, options).WriteTo(stream);
    }

    /// <summary>The model as an ONNX protobuf message.</summary>
    internal static ModelProto BuildModel(RnnModel<float> model, OnnxExportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= OnnxExportOptions.Default;
        var layers = model.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].InputSize is null || layers[i].Directions.Any(d => d.InputSize is null))
                throw new InvalidOperationException($"OnnxExporter.Export: layer {i} ({Describe(layers[i])}) is not built; run a forward pass or call RnnModel.Build(inputSize) first.");
            if (i > 0 && layers[i].InputSize != layers[i - 1].OutputSize)
                throw new InvalidOperationException($"OnnxExporter.Export: layer {i} takes {layers[i].InputSize} features but layer {i - 1} outputs {layers[i - 1].OutputSize}.");
            CheckDirections(layers[i], i);
        }
        int inputSize = layers[0].InputSize!.Value;
        var metadata = Metadata(model, options, inputSize);

        var g = new GraphBuilder("autograd_rnn");
        Dim batch = "batch", time = "time";
        Dim[] outer = options.BatchFirst ? [batch, time] : [time, batch];

        // x names the value flowing through the graph; from the first recurrent node on it is time-major (T, B, ·).
        string x;
        if (options.Input == OnnxInputKind.Ids)
        {
            g.Input(IdsInput, TensorProto.Types.DataType.Int64, outer);
            g.Initializer("one_hot", [inputSize, inputSize], Identity(inputSize));
            x = g.Node("Gather", ["one_hot", IdsInput], "one_hot_input", ("axis", 0));
        }
        else
        {
            g.Input(FeaturesInput, TensorProto.Types.DataType.Float, [.. outer, inputSize]);
            x = FeaturesInput;
        }
        if (options.SequenceLengths) g.Input(SequenceLengthsInput, TensorProto.Types.DataType.Int32, [batch]);
        if (options.BatchFirst) x = g.Node("Transpose", [x], "time_major_input", ("perm", new long[] { 1, 0, 2 }));

        g.Output(Output, TensorProto.Types.DataType.Float, [.. outer, layers[^1].OutputSize]); // listed first; the layers add their states
        g.Initializer("direction_axis", [1], new long[] { 1 });
        for (int i = 0; i < layers.Count; i++)
        {
            bool last = i == layers.Count - 1;
            // The library's output is zero past each length; a projection (B_v) would make it non-zero there.
            bool mask = last && options.SequenceLengths && layers[i].Directions.Any(d => d.HasOutputProjection);
            string name = last && !options.BatchFirst && !mask ? Output : $"layers.{i}.output";
            x = AddLayer(g, layers[i], i, x, options, batch, name);
            if (mask) x = ZeroPastLengths(g, x, options.BatchFirst ? "masked_output" : Output);
        }
        if (options.BatchFirst) g.Node("Transpose", [x], Output, ("perm", new long[] { 1, 0, 2 }));

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Autograd",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = options.Description ?? "",
            Graph = g.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        foreach (var (key, value) in metadata) proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>One ONNX node runs both directions, so they must agree on everything the node's attributes and shapes fix.</summary>
    private static void CheckDirections(SequenceLayer<float> layer, int index)
    {
        var d = layer.Directions;
        if (d.Count == 1) return;
        if (d.Any(x => x.InputSize != d[0].InputSize))
            throw new InvalidOperationException($"OnnxExporter.Export: layer {index} ({Describe(layer)}): its directions are built for different input sizes ({string.Join(" and ", d.Select(x => x.InputSize))} features) but read the same input.");
        if (d.Count != 2 || d[1].Cell != d[0].Cell || d[1].HiddenSize != d[0].HiddenSize
            || !d[1].Cell.OnnxAttributes(d[1].Options).SequenceEqual(d[0].Cell.OnnxAttributes(d[0].Options)))
            throw new NotSupportedException($"OnnxExporter.Export: layer {index} ({Describe(layer)}): ONNX runs both directions in one {d[0].Cell.OnnxOperator} node, so they need the same cell, hidden size and form.");
    }

    private static string AddLayer(GraphBuilder g, SequenceLayer<float> layer, int index, string x, OnnxExportOptions options, Dim batch, string outputName)
    {
        var directions = layer.Directions;
        var first = directions[0];
        var cell = first.Cell;
        int f = first.InputSize!.Value, h = first.HiddenSize, dirs = directions.Count;
        var order = cell.OnnxGateOrder;
        int gh = order.Count * h;

        // ONNX wants W (D, G·H, F) and R (D, G·H, H) applied as x·Wᵀ: each gate's block transposed; B (D, 2·G·H) = [Wb, Rb].
        var w = new float[dirs * gh * f];
        var r = new float[dirs * gh * h];
        var bias = new float[dirs * 2 * gh];
        for (int d = 0; d < dirs; d++)
        {
            var gates = directions[d].Gates().ToDictionary(gate => gate.Name);
            for (int k = 0; k < order.Count; k++)
            {
                var gate = gates[order[k]];
                TransposeInto(gate.Input.ToArray(), h, f, w.AsSpan((d * gh + k * h) * f, h * f));
                TransposeInto(gate.Recurrent.ToArray(), h, h, r.AsSpan((d * gh + k * h) * h, h * h));
                gate.Bias.AsSpan().CopyTo(bias.AsSpan(d * 2 * gh + k * h, h));
                gate.RecurrentBias?.AsSpan().CopyTo(bias.AsSpan(d * 2 * gh + gh + k * h, h));
            }
        }
        string prefix = $"layers.{index}.";
        g.Initializer(prefix + "W", [dirs, gh, f], w);
        g.Initializer(prefix + "R", [dirs, gh, h], r);
        g.Initializer(prefix + "B", [dirs, 2 * gh], bias);

        var inputs = new List<string> { x, prefix + "W", prefix + "R", prefix + "B", options.SequenceLengths ? SequenceLengthsInput : "" };
        if (options.StateInputs)
        {
            foreach (var component in cell.StateNames)
            {
                inputs.Add(InitialState(component, index));
                g.Input(InitialState(component, index), TensorProto.Types.DataType.Float, [dirs, batch, h]);
            }
        }
        else if (!options.SequenceLengths) inputs.RemoveAt(inputs.Count - 1); // no optional inputs at all
        string[] outputs = [prefix + "y", .. cell.StateNames.Select(c => FinalState(c, index))];
        var attributes = new List<(string, object)> { ("hidden_size", (long)h) };
        if (dirs == 2) attributes.Add(("direction", "bidirectional"));
        foreach (var (name, value) in cell.OnnxAttributes(first.Options)) attributes.Add((name, value));
        g.Node(cell.OnnxOperator, inputs, outputs, prefix + cell.OnnxOperator.ToLowerInvariant(), attributes);
        foreach (var component in cell.StateNames) g.Output(FinalState(component, index), TensorProto.Types.DataType.Float, [dirs, batch, h]);

        // Y is (T, D, B, H): per direction (T, B, H), the library's output projection H·W_v + B_v where it has one.
        if (dirs == 1) return Project(g, directions[0], g.Node("Squeeze", [prefix + "y", "direction_axis"], prefix + "hidden"), prefix, outputName);
        var parts = new string[dirs];
        for (int d = 0; d < dirs; d++)
        {
            string dp = $"{prefix}{(d == 0 ? "forward" : "reverse")}.";
            g.Initializer(dp + "index", [], new long[] { d });
            parts[d] = Project(g, directions[d], g.Node("Gather", [prefix + "y", dp + "index"], dp + "hidden", ("axis", 1)), dp, dp + "output");
        }
        return g.Node("Concat", parts, outputName, ("axis", 2));
    }

    private static string Project(GraphBuilder g, RecurrentLayer<float> layer, string hidden, string prefix, string outputName)
    {
        if (layer.OutputProjection is not var (wv, bv)) return outputName == Output ? g.Node("Identity", [hidden], outputName) : hidden;
        g.Initializer(prefix + "W_v", [layer.HiddenSize, layer.OutputSize], wv.ToArray());
        g.Initializer(prefix + "B_v", [layer.OutputSize], bv.ToArray());
        string projected = g.Node("MatMul", [hidden, prefix + "W_v"], prefix + "projected");
        return g.Node("Add", [projected, prefix + "B_v"], outputName);
    }

    /// <summary>x (T, B, O) times a (T, B, 1) mask that is 1 where t &lt; sequence_lens[b].</summary>
    private static string ZeroPastLengths(GraphBuilder g, string x, string outputName)
    {
        string shape = g.Node("Shape", [x], "mask.shape");
        g.Initializer("mask.zero", [], new long[] { 0 });
        g.Initializer("mask.one", [], new long[] { 1 });
        string steps = g.Node("Gather", [shape, "mask.zero"], "mask.time", ("axis", 0));
        string t = g.Node("Range", ["mask.zero", steps, "mask.one"], "mask.steps");
        g.Initializer("mask.axis1", [1], new long[] { 1 });
        g.Initializer("mask.axis0", [1], new long[] { 0 });
        string column = g.Node("Unsqueeze", [t, "mask.axis1"], "mask.steps_column");
        string lengths = g.Node("Cast", [SequenceLengthsInput], "mask.lengths", ("to", (long)TensorProto.Types.DataType.Int64));
        string row = g.Node("Unsqueeze", [lengths, "mask.axis0"], "mask.lengths_row");
        string valid = g.Node("Less", [column, row], "mask.valid");
        string mask = g.Node("Cast", [valid], "mask.float", ("to", (long)TensorProto.Types.DataType.Float));
        g.Initializer("mask.axis2", [1], new long[] { 2 });
        string mask3 = g.Node("Unsqueeze", [mask, "mask.axis2"], "mask");
        return g.Node("Mul", [x, mask3], outputName);
    }

    /// <summary>Writes the (rows, cols) row-major matrix <paramref name="source"/> transposed, as (cols, rows).</summary>
    private static void TransposeInto(float[] source, int cols, int rows, Span<float> destination)
    {
        for (int j = 0; j < cols; j++)
            for (int k = 0; k < rows; k++)
                destination[j * rows + k] = source[k * cols + j];
    }

    private static float[] Identity(int n)
    {
        var table = new float[n * n];
        for (int i = 0; i < n; i++) table[i * n + i] = 1;
        return table;
    }

    private static List<(string Key, string Value)> Metadata(RnnModel<float> model, OnnxExportOptions options, int inputSize)
    {
        var entries = new List<(string, string)>();
        if (options.Vocabulary is { } vocabulary)
        {
            if (vocabulary.Any(t => t is null))
                throw new ArgumentException("OnnxExporter.Export: the vocabulary contains a null token.", nameof(options));
            if (options.Input == OnnxInputKind.Ids && vocabulary.Count != inputSize)
                throw new ArgumentException($"OnnxExporter.Export: vocabulary has {vocabulary.Count} tokens but the model's first layer takes {inputSize} classes.", nameof(options));
            entries.Add((VocabularyKey, JsonSerializer.Serialize(vocabulary, Json)));
        }
        entries.Add(("input", options.Input == OnnxInputKind.Ids ? IdsInput : FeaturesInput));
        entries.Add(("layout", options.BatchFirst ? "batch_first" : "time_first"));
        entries.Add(("state_inputs", options.StateInputs ? "true" : "false"));
        entries.Add(("sequence_lengths", options.SequenceLengths ? "true" : "false"));
        entries.Add(("layers", string.Join("; ", model.Layers.Select(Describe))));
        if (options.Metadata is { } extra)
        {
            foreach (var (key, value) in extra)
            {
                if (ReservedKeys.Contains(key))
                    throw new ArgumentException($"OnnxExporter.Export: metadata key '{key}' is written by the exporter itself.", nameof(options));
                if (value is null) throw new ArgumentException($"OnnxExporter.Export: metadata '{key}' has a null value.", nameof(options));
                entries.Add((key, value));
            }
        }
        return entries;
    }

    private static string Describe(SequenceLayer<float> layer) => layer switch
    {
        RecurrentLayer<float> r => Describe(r),
        _ => $"bidirectional({string.Join(", ", layer.Directions.Select(Describe))})",
    };

    private static string Describe(RecurrentLayer<float> layer)
    {
        string variant = layer.Cell.DescribeOptions(layer.Options);
        return string.Create(CultureInfo.InvariantCulture,
            $"{layer.Cell.Name}(input={layer.InputSize}, hidden={layer.HiddenSize}, output={layer.OutputSize}{(variant.Length > 0 ? ", " + variant : "")}{(layer.Options.RecurrentBias ? ", recurrent_bias=true" : "")})");
    }
}
