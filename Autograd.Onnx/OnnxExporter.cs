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
/// <para>The graph, with B = batch, T = time, per layer i (H_i hidden, O_i output, F_i its input size):</para>
/// <list type="bullet">
/// <item><description>Input <see cref="IdsInput"/> int64 (B, T) → Gather rows of a (F_0, F_0) identity table
/// (the one-hot encoding), or <see cref="FeaturesInput"/> float (B, T, F_0). Time-major (T, B, …) when
/// <see cref="OnnxExportOptions.BatchFirst"/> is false; otherwise a Transpose makes it so.</description></item>
/// <item><description>Per layer an ONNX <c>RNN</c> (Tanh), <c>GRU</c> or <c>LSTM</c> node (forward, no peepholes),
/// then Squeeze of the direction axis and the layer's output projection as MatMul(W_v) + Add(B_v).
/// GRU gets <c>linear_before_reset</c> = 0 for the seed's form and 1 for
/// <see cref="RecurrentOptions.GruResetAfter"/>. Each cell's biases go to ONNX's Wb and Rb is zero,
/// which is exact for both GRU forms since neither has a recurrent bias.</description></item>
/// <item><description>Inputs <see cref="InitialHidden"/> (and <see cref="InitialCell"/> for LSTM) float (1, B, H_i)
/// when <see cref="OnnxExportOptions.StateInputs"/>; outputs <see cref="Output"/> float (B, T, O_last) and
/// <see cref="FinalHidden"/> / <see cref="FinalCell"/> float (1, B, H_i), the state after the last step.</description></item>
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

    /// <summary>Name of the float output (B, T, O) of the last layer (logits for a character model).</summary>
    public const string Output = "output";

    /// <summary>Metadata key of the vocabulary (a JSON array of strings).</summary>
    public const string VocabularyKey = "vocabulary";

    private const int IrVersion = 8; // the IR that goes with opset 17

    private static readonly string[] ReservedKeys = [VocabularyKey, "input", "layout", "state_inputs", "layers"];

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Name of layer <paramref name="layer"/>'s initial hidden state input, float (1, batch, H).</summary>
    public static string InitialHidden(int layer) => $"initial_h_{layer}";

    /// <summary>Name of LSTM layer <paramref name="layer"/>'s initial cell state input, float (1, batch, H).</summary>
    public static string InitialCell(int layer) => $"initial_c_{layer}";

    /// <summary>Name of layer <paramref name="layer"/>'s final hidden state output, float (1, batch, H).</summary>
    public static string FinalHidden(int layer) => $"final_h_{layer}";

    /// <summary>Name of LSTM layer <paramref name="layer"/>'s final cell state output, float (1, batch, H).</summary>
    public static string FinalCell(int layer) => $"final_c_{layer}";

    /// <summary>
    /// Writes <paramref name="model"/> to the file <paramref name="path"/> (created or replaced)
    /// atomically through <see cref="AtomicFile"/>: a failure leaves the previous file, never half a model.
    /// </summary>
    /// <param name="model">A built model (after a forward pass, <see cref="RnnModel{T}.Build"/> or a loaded state dict).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">Null for <see cref="OnnxExportOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the options do not fit the model (vocabulary size, metadata keys).</exception>
    /// <exception cref="InvalidOperationException">A layer is not built, or a layer's input size is not its predecessor's output size.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
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
    /// <exception cref="InvalidOperationException">A layer is not built, or a layer's input size is not its predecessor's output size.</exception>
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
            if (layers[i].InputSize is null)
                throw new InvalidOperationException($"OnnxExporter.Export: layer {i} ({layers[i].Kind}) is not built; run a forward pass or call RnnModel.Build(inputSize) first.");
            if (i > 0 && layers[i].InputSize != layers[i - 1].OutputSize)
                throw new InvalidOperationException($"OnnxExporter.Export: layer {i} takes {layers[i].InputSize} features but layer {i - 1} outputs {layers[i - 1].OutputSize}.");
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
        if (options.BatchFirst) x = g.Node("Transpose", [x], "time_major_input", ("perm", new long[] { 1, 0, 2 }));

        g.Output(Output, TensorProto.Types.DataType.Float, [.. outer, layers[^1].OutputSize]); // listed first; the layers add their states
        g.Initializer("direction_axis", [1], new long[] { 1 });
        for (int i = 0; i < layers.Count; i++)
        {
            bool last = i == layers.Count - 1;
            x = AddLayer(g, layers[i], i, x, options.StateInputs, batch, last && !options.BatchFirst ? Output : $"layers.{i}.output");
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

    // One gate in ONNX order: its input weight (rows from inputRow, F of them) and recurrent weight (rows
    // from recurrentRow, H of them), both (rows, H) in the library's x·W convention, and its (1, H) bias.
    private readonly record struct Gate(float[] InputWeight, int InputRow, float[] RecurrentWeight, int RecurrentRow, float[] Bias);

    private static string AddLayer(GraphBuilder g, RecurrentLayer<float> layer, int index, string x, bool stateInputs, Dim batch, string outputName)
    {
        int f = layer.InputSize!.Value, h = layer.HiddenSize;
        var p = layer.NamedParameters().ToDictionary(e => e.Name, e => e.Parameter.ToArray());
        // The library keeps x and H rows stacked in one (F+H, H) matrix for RNN and LSTM, separate for GRU.
        Gate Stacked(string w, string b) => new(p[w], 0, p[w], f, p[b]);
        Gate Split(string wx, string wh, string b) => new(p[wx], 0, p[wh], 0, p[b]);
        var (op, gates) = layer.Kind switch
        {
            CellKind.Rnn => ("RNN", new[] { Stacked("W_f", "B_f") }),
            // ONNX z is the library's update gate u: both keep the old state where the gate is 1.
            CellKind.Gru => ("GRU", new[] { Split("W_xu", "W_hu", "B_u"), Split("W_xr", "W_hr", "B_r"), Split("W_xh", "W_hh", "B_h") }),
            CellKind.Lstm => ("LSTM", new[] { Stacked("W_i", "B_i"), Stacked("W_o", "B_o"), Stacked("W_f", "B_f"), Stacked("W_c", "B_c") }),
            _ => throw new NotSupportedException($"OnnxExporter.Export: layer {index} has cell kind {layer.Kind}, which has no ONNX mapping."),
        };

        // ONNX wants W (1, G·H, F) and R (1, G·H, H) applied as x·Wᵀ: each gate's block transposed.
        int gh = gates.Length * h;
        var w = new float[gh * f];
        var r = new float[gh * h];
        var bias = new float[2 * gh]; // [Wb, Rb]; Rb stays zero
        for (int k = 0; k < gates.Length; k++)
        {
            var gate = gates[k];
            TransposeInto(gate.InputWeight, h, gate.InputRow, f, w.AsSpan(k * h * f, h * f));
            TransposeInto(gate.RecurrentWeight, h, gate.RecurrentRow, h, r.AsSpan(k * h * h, h * h));
            gate.Bias.CopyTo(bias, k * h);
        }
        string prefix = $"layers.{index}.";
        g.Initializer(prefix + "W", [1, gh, f], w);
        g.Initializer(prefix + "R", [1, gh, h], r);
        g.Initializer(prefix + "B", [1, 2 * gh], bias);

        bool lstm = layer.Kind == CellKind.Lstm;
        var inputs = new List<string> { x, prefix + "W", prefix + "R", prefix + "B" };
        if (stateInputs)
        {
            inputs.Add(""); // sequence_lens: every sequence runs the full length
            inputs.Add(InitialHidden(index));
            g.Input(InitialHidden(index), TensorProto.Types.DataType.Float, [1, batch, h]);
            if (lstm)
            {
                inputs.Add(InitialCell(index));
                g.Input(InitialCell(index), TensorProto.Types.DataType.Float, [1, batch, h]);
            }
        }
        string[] outputs = lstm ? [prefix + "y", FinalHidden(index), FinalCell(index)] : [prefix + "y", FinalHidden(index)];
        var attributes = new List<(string, object)> { ("hidden_size", (long)h) };
        if (layer.Kind == CellKind.Gru) attributes.Add(("linear_before_reset", layer.Options.GruResetAfter ? 1L : 0L));
        g.Node(op, inputs, outputs, prefix + op.ToLowerInvariant(), attributes);
        g.Output(FinalHidden(index), TensorProto.Types.DataType.Float, [1, batch, h]);
        if (lstm) g.Output(FinalCell(index), TensorProto.Types.DataType.Float, [1, batch, h]);

        // Y is (T, 1, B, H); drop the direction axis, then the library's output projection H·W_v + B_v.
        string hidden = g.Node("Squeeze", [prefix + "y", "direction_axis"], prefix + "hidden");
        g.Initializer(prefix + "W_v", [h, layer.OutputSize], p["W_v"]);
        g.Initializer(prefix + "B_v", [layer.OutputSize], p["B_v"]);
        string projected = g.Node("MatMul", [hidden, prefix + "W_v"], prefix + "projected");
        return g.Node("Add", [projected, prefix + "B_v"], outputName);
    }

    /// <summary>Writes rows [row, row + rows) of the (·, cols) matrix <paramref name="source"/> transposed, as (cols, rows).</summary>
    private static void TransposeInto(float[] source, int cols, int row, int rows, Span<float> destination)
    {
        for (int j = 0; j < cols; j++)
            for (int k = 0; k < rows; k++)
                destination[j * rows + k] = source[(row + k) * cols + j];
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

    private static string Describe(RecurrentLayer<float> layer)
    {
        string gru = layer.Kind == CellKind.Gru ? $", reset_after={(layer.Options.GruResetAfter ? "true" : "false")}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{layer.Kind.ToString().ToLowerInvariant()}(input={layer.InputSize}, hidden={layer.HiddenSize}, output={layer.OutputSize}{gru})");
    }
}
