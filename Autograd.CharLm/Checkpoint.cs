using System.Globalization;
using Autograd.Nn.Serialization;
using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>Where a training run stands, as stored in a checkpoint so that it can be resumed.</summary>
public sealed record TrainingState
{
    /// <summary>Optimizer steps taken so far, over all runs.</summary>
    public long Step { get; init; }

    /// <summary>Batches drawn from the training text so far (the batcher's position).</summary>
    public long BatchPosition { get; init; }

    /// <summary>The best validation loss seen so far (nats/symbol); infinity if none.</summary>
    public double BestValidationLoss { get; init; } = double.PositiveInfinity;

    /// <summary>Training time so far, in seconds, over all runs.</summary>
    public double ElapsedSeconds { get; init; }

    /// <summary>The options the run used.</summary>
    public TrainingOptions Options { get; init; } = new();

    /// <summary>The optimizer's state (e.g. Adam's moments), keyed as its <c>StateDict</c> keys them.</summary>
    public IReadOnlyDictionary<string, Tensor<float>> OptimizerState { get; init; } = new Dictionary<string, Tensor<float>>();

    /// <summary>
    /// The recurrent state carried into the next batch, per layer and state component (the cell's
    /// <see cref="RecurrentCell.StateNames"/>): <c>layers.{i}.h</c> and, for LSTM, <c>layers.{i}.c</c>, each
    /// (batch, H). Empty when the next batch starts fresh.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor<float>> CarriedState { get; init; } = new Dictionary<string, Tensor<float>>();

    /// <summary>The dropout generator's state (<see cref="RnnModel{T}.DropoutMasksDrawn"/>), so a resumed run draws the same masks.</summary>
    public long DropoutMasksDrawn { get; init; }
}

/// <summary>A model and, if it was saved during training, the state to resume from.</summary>
public sealed record CheckpointContents(CharLanguageModel Model, TrainingState? State);

/// <summary>
/// Saves and loads character-level models as one safetensors file: the network's state dict
/// under its own keys (<c>layers.0.W_f</c>, ...), the optimizer state as <c>optim.</c>-prefixed
/// tensors, and in <c>__metadata__</c> the vocabulary, the model configuration and the training
/// state. Saving is atomic; loading validates everything and throws
/// <see cref="CheckpointFormatException"/> with a one-line message for any bad file.
/// </summary>
public static class Checkpoint
{
    /// <summary>The <c>format</c> metadata value that marks these checkpoints.</summary>
    public const string FormatName = "autograd.char-lm";

    /// <summary>The layout version written.</summary>
    public const int FormatVersion = 1;

    /// <summary>Prefix of optimizer-state tensor names.</summary>
    public const string OptimizerPrefix = "optim.";

    /// <summary>Prefix of carried-state tensor names.</summary>
    public const string CarryPrefix = "carry.";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The metadata key whose presence marks a checkpoint saved with training state.</summary>
    private const string StepKey = "train.step";

    /// <summary>
    /// Every <c>__metadata__</c> key, in the order Load checks them: how Save writes it and how Load
    /// reads it back (range-checked). <c>train.*</c> keys are written only with a training state.
    /// </summary>
    private static readonly MetadataKey[] Keys =
    [
        new("format", _ => FormatName, (v, h) => v.Text == FormatName ? h : throw v.Bad($"format is '{v.Clipped}', expected '{FormatName}'")),
        new("format_version", _ => Str(FormatVersion), (v, h) => v.Int(1, int.MaxValue) == FormatVersion ? h
            : throw v.Bad($"format version {v.Text} is not supported (this build reads version {FormatVersion})")),
        new("vocab", h => h.Vocabulary!.Symbols, (v, h) => h with { Vocabulary = ParseVocabulary(v) }),
        new("model.cell", h => CharModelConfig.Name(h.Config.Cell), (v, h) => h with
        {
            Config = h.Config with { Cell = CharModelConfig.TryParseCell(v.Text, out var cell) ? cell : throw v.Bad($"metadata '{v.Key}' = '{v.Clipped}' is not one of {string.Join(", ", RecurrentCell.All.Select(c => c.Name))}") },
        }),
        new("model.hidden_size", h => Str(h.Config.HiddenSize), (v, h) => h with { Config = h.Config with { HiddenSize = v.Int(1, CharModelConfig.MaxHiddenSize) } }),
        new("model.layers", h => Str(h.Config.Layers), (v, h) => h with { Config = h.Config with { Layers = v.Int(1, CharModelConfig.MaxLayers) } }),
        new("model.dropout", h => Str(h.Config.Dropout), (v, h) => h with { Config = h.Config with { Dropout = v.Double(0, 0.999999) } }),
        new("model.seed", h => Str(h.Seed), (v, h) => h with { Seed = v.Int(int.MinValue, int.MaxValue) }),
        new(StepKey, h => Str(h.State.Step), (v, h) => h with { State = h.State with { Step = v.Long(0, long.MaxValue) } }),
        new("train.batch_position", h => Str(h.State.BatchPosition), (v, h) => h with { State = h.State with { BatchPosition = v.Long(0, long.MaxValue) } }),
        new("train.best_val_loss", h => Str(h.State.BestValidationLoss), (v, h) => h with { State = h.State with { BestValidationLoss = v.Double(0, double.PositiveInfinity) } }),
        new("train.elapsed_s", h => Str(h.State.ElapsedSeconds), (v, h) => h with { State = h.State with { ElapsedSeconds = v.Double(0, double.MaxValue) } }),
        new("train.seq_len", h => Str(h.State.Options.SequenceLength), (v, h) => h.WithOptions(o => o with { SequenceLength = v.Int(1, int.MaxValue) })),
        new("train.batch", h => Str(h.State.Options.BatchSize), (v, h) => h.WithOptions(o => o with { BatchSize = v.Int(1, int.MaxValue) })),
        new("train.lr", h => Str(h.State.Options.LearningRate), (v, h) => h.WithOptions(o => o with { LearningRate = v.Double(double.Epsilon, double.MaxValue) })),
        new("train.optimizer", h => Str(h.State.Options.Optimizer), (v, h) => h.WithOptions(o => o with { Optimizer = v.Enum<OptimizerKind>() })),
        new("train.momentum", h => Str(h.State.Options.Momentum), (v, h) => h.WithOptions(o => o with { Momentum = v.Double(0, 0.999999) })),
        new("train.clip", h => Str(h.State.Options.ClipNorm), (v, h) => h.WithOptions(o => o with { ClipNorm = v.Double(0, double.MaxValue) })),
        new("train.schedule", h => Str(h.State.Options.Schedule), (v, h) => h.WithOptions(o => o with { Schedule = v.Enum<LearningRateSchedule>() })),
        new("train.final_lr_factor", h => Str(h.State.Options.FinalLearningRateFactor), (v, h) => h.WithOptions(o => o with { FinalLearningRateFactor = v.Double(double.Epsilon, 1) })),
        new("train.seed", h => Str(h.State.Options.Seed), (v, h) => h.WithOptions(o => o with { Seed = v.Int(int.MinValue, int.MaxValue) })),
        // Absent in files written before it was saved: their masks restart from the first.
        new("train.dropout_masks", h => Str(h.State.DropoutMasksDrawn), (v, h) => h with { State = h.State with { DropoutMasksDrawn = v.Long(0, long.MaxValue) } }, Optional: true),
    ];

    /// <summary>Writes <paramref name="model"/> (and <paramref name="state"/>, if given) to <paramref name="path"/> atomically.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="state"/> holds a null, or a negative count, time or loss.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    /// <exception cref="InvalidOperationException">A weight is NaN or infinite: such a model is never written.</exception>
    public static void Save(string path, CharLanguageModel model, TrainingState? state = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        if (state is not null) CheckState(state);
        var writer = new SafeTensorsWriter();
        foreach (var (name, parameter) in model.Network.NamedParameters())
        {
            foreach (float v in parameter.AsSpan())
                if (!float.IsFinite(v))
                    throw new InvalidOperationException($"Checkpoint.Save: refusing to write {path}: parameter '{name}' holds a non-finite value ({v.ToString(Inv)}).");
            writer.Add(name, parameter);
        }

        var header = new Header { Vocabulary = model.Vocabulary, Config = model.Config, Seed = model.Seed, State = state ?? new() };
        foreach (var key in Keys)
            if (state is not null || !key.IsTraining)
                writer.SetMetadata(key.Name, key.Write(header));

        if (state is not null)
        {
            // The optimizer keys its slots by parameter index ("m.3"); the file names the parameter ("optim.m.layers.0.W_f").
            var names = model.Network.NamedParameters().Select(p => p.Name).ToArray();
            foreach (var (key, tensor) in state.OptimizerState.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                int dot = key.LastIndexOf('.');
                string fileKey = dot > 0 && int.TryParse(key[(dot + 1)..], NumberStyles.None, Inv, out int index) && index < names.Length
                    ? $"{key[..dot]}.{names[index]}"
                    : key;
                writer.Add(OptimizerPrefix + fileKey, tensor);
            }
            foreach (var (key, tensor) in state.CarriedState.OrderBy(p => p.Key, StringComparer.Ordinal))
                writer.Add(CarryPrefix + key, tensor);
        }
        writer.Save(path);
    }

    /// <summary>Refuses a state that Load would refuse, before anything is written.</summary>
    private static void CheckState(TrainingState state)
    {
        if (state.Options is null || state.OptimizerState is null || state.CarriedState is null)
            throw new ArgumentException("Checkpoint.Save: the state's Options, OptimizerState and CarriedState must not be null.", nameof(state));
        if (state.Step < 0 || state.BatchPosition < 0 || state.DropoutMasksDrawn < 0 || !(state.ElapsedSeconds >= 0 && double.IsFinite(state.ElapsedSeconds)) || !(state.BestValidationLoss >= 0))
            throw new ArgumentException("Checkpoint.Save: the state's counts, elapsed time and best loss must be non-negative (and the time finite).", nameof(state));
        foreach (var (key, tensor) in state.OptimizerState.Concat(state.CarriedState))
            if (tensor is null) throw new ArgumentException($"Checkpoint.Save: state tensor '{key}' is null.", nameof(state));
    }

    /// <summary>Loads and validates a checkpoint.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a valid checkpoint (one-line message naming the file and the problem).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    public static CheckpointContents Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new CheckpointFormatException($"{path}: is a directory, not a checkpoint file.");
        var file = SafeTensorsFile.Load(path);
        var meta = new MetadataReader(file);
        bool training = file.Metadata.ContainsKey(StepKey);
        if (!training && file.Names.Any(IsTrainingTensor))
            throw meta.Bad("optimizer or carried-state tensors without training metadata");

        var header = new Header();
        foreach (var key in Keys)
            if ((training || !key.IsTraining) && !(key.Optional && !file.Metadata.ContainsKey(key.Name)))
                header = key.Read(meta[key.Name], header);

        var vocabulary = header.Vocabulary!;
        var modelTensors = CheckModelTensors(file, meta, vocabulary, header.Config);
        var model = new CharLanguageModel(vocabulary, header.Config, header.Seed);
        model.Network.LoadStateDict(modelTensors.ToDictionary(name => name, file.GetTensor<float>, StringComparer.Ordinal));

        var state = training
            ? header.State with { OptimizerState = ReadOptimizerState(file, meta, model), CarriedState = ReadCarriedState(file, meta, model) }
            : null;
        return new CheckpointContents(model, state);
    }

    private static Vocabulary ParseVocabulary(MetadataValue value)
    {
        try
        {
            return Vocabulary.FromSymbols(value.Text);
        }
        catch (ArgumentException e)
        {
            throw value.Bad($"metadata '{value.Key}' is not a valid vocabulary ({e.Message})");
        }
    }

    /// <summary>
    /// Checks every model tensor's name, shape, dtype and values against the configuration before
    /// anything is built, so a refused file costs no more than reading it; returns the names.
    /// </summary>
    private static HashSet<string> CheckModelTensors(SafeTensorsFile file, MetadataReader meta, Vocabulary vocabulary, CharModelConfig config)
    {
        // Bound what building the model allocates by what the file actually holds.
        long needed = config.ParameterCount(vocabulary.Count);
        long held = file.Names.Where(n => !IsTrainingTensor(n))
                              .Sum(n => (long)file.GetInfo(n).ElementCount);
        if (needed != held)
            throw meta.Bad($"the configuration ({CharModelConfig.Name(config.Cell)}, hidden {config.HiddenSize}, {config.Layers} layer(s), {vocabulary.Count} symbols) has {needed} parameters but the file holds {held} model values");

        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < config.Layers; i++)
        {
            int input = i == 0 ? vocabulary.Count : config.HiddenSize;
            int output = i == config.Layers - 1 ? vocabulary.Count : config.HiddenSize;
            foreach (var (local, shape) in RecurrentLayer<float>.Layout(config.Cell, input, config.HiddenSize, output))
            {
                string name = $"layers.{i.ToString(Inv)}.{local}";
                expected.Add(name);
                if (!file.Contains(name))
                    throw meta.Bad($"tensor '{name}' is missing");
                var info = file.GetInfo(name);
                if (!info.Shape.AsSpan().SequenceEqual(shape))
                    throw meta.Bad($"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}]");
                if (info.DType != SafeTensorsDType.F32)
                    throw meta.Bad($"tensor '{name}' has dtype {info.DType}, expected F32");
                CheckFinite(file, name, meta);
            }
        }
        foreach (var name in file.Names)
            if (!expected.Contains(name) && !IsTrainingTensor(name))
                throw meta.Bad($"unexpected tensor '{name}'");
        return expected;
    }

    /// <summary>The <c>optim.</c> tensors, re-keyed from parameter names to the optimizer's parameter indices.</summary>
    private static Dictionary<string, Tensor<float>> ReadOptimizerState(SafeTensorsFile file, MetadataReader meta, CharLanguageModel model)
    {
        var parameters = model.Network.NamedParameters().Select((p, i) => (p.Name, p.Parameter, Index: i))
                                                        .ToDictionary(p => p.Name, StringComparer.Ordinal);
        var optimizerState = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
        foreach (var name in file.Names.Where(n => n.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
        {
            string key = name[OptimizerPrefix.Length..];
            var tensor = file.GetTensor<float>(name);
            CheckFinite(tensor, name, meta);
            // "step" counts the optimizer's steps, "step.{parameter}" one parameter's (both shape (1)).
            bool count = key == "step" || key.StartsWith("step.", StringComparison.Ordinal);
            if (count && (tensor.Length != 1 || tensor.AsSpan()[0] < 0 || tensor.AsSpan()[0] != MathF.Floor(tensor.AsSpan()[0])))
                throw meta.Bad($"tensor '{name}' is not a single non-negative whole step count");
            if (key == "step")
            {
                optimizerState.Add(key, tensor);
                continue;
            }
            int dot = key.IndexOf('.');
            if (dot <= 0 || !parameters.TryGetValue(key[(dot + 1)..], out var parameter))
                throw meta.Bad($"optimizer tensor '{name}' names no model parameter");
            if (!count && !tensor.Shape.SequenceEqual(parameter.Parameter.Shape))
                throw meta.Bad($"optimizer tensor '{name}' has shape [{string.Join(", ", tensor.Shape.ToArray())}], its parameter [{string.Join(", ", parameter.Parameter.Shape.ToArray())}]");
            optimizerState.Add($"{key[..dot]}.{parameter.Index.ToString(Inv)}", tensor);
        }
        return optimizerState;
    }

    /// <summary>The <c>carry.</c> tensors: <c>layers.{i}.h</c> (and <c>.c</c> for LSTM), each (batch, H).</summary>
    private static Dictionary<string, Tensor<float>> ReadCarriedState(SafeTensorsFile file, MetadataReader meta, CharLanguageModel model)
    {
        var carried = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
        var layers = model.Network.Layers;
        int hidden = model.Config.HiddenSize;
        foreach (var name in file.Names.Where(n => n.StartsWith(CarryPrefix, StringComparison.Ordinal)))
        {
            string key = name[CarryPrefix.Length..];
            var parts = key.Split('.');
            if (parts.Length != 3 || parts[0] != "layers" || !int.TryParse(parts[1], NumberStyles.None, Inv, out int layer)
                || layer >= layers.Count || !(layers[layer] is RecurrentLayer<float> r && r.Cell.StateNames.Contains(parts[2])))
                throw meta.Bad($"carried-state tensor '{name}' names no layer state");
            var tensor = file.GetTensor<float>(name);
            if (tensor.Rank != 2 || tensor.Size(1) != hidden)
                throw meta.Bad($"carried-state tensor '{name}' has shape [{string.Join(", ", tensor.Shape.ToArray())}], expected [batch, {hidden}]");
            CheckFinite(tensor, name, meta);
            carried.Add(key, tensor);
        }
        return carried;
    }

    private static string Str(long value) => value.ToString(Inv);

    private static string Str(double value) => value.ToString("R", Inv);

    private static string Str<TEnum>(TEnum value) where TEnum : struct, Enum => value.ToString().ToLowerInvariant();

    private static bool IsTrainingTensor(string name)
        => name.StartsWith(OptimizerPrefix, StringComparison.Ordinal) || name.StartsWith(CarryPrefix, StringComparison.Ordinal);

    private static void CheckFinite(SafeTensorsFile file, string name, MetadataReader meta)
    {
        var bytes = file.GetBytes(name);
        for (int i = 0; i + 4 <= bytes.Length; i += 4)
        {
            float v = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]);
            if (!float.IsFinite(v))
                throw meta.Bad($"tensor '{name}' holds a non-finite value ({v.ToString(Inv)})");
        }
    }

    private static void CheckFinite(Tensor<float> tensor, string name, MetadataReader meta)
    {
        foreach (float v in tensor.AsSpan())
            if (!float.IsFinite(v))
                throw meta.Bad($"tensor '{name}' holds a non-finite value ({v.ToString(Inv)})");
    }

    /// <summary>What <c>__metadata__</c> describes besides the tensors; Load fills it in key by key.</summary>
    private sealed record Header
    {
        public Vocabulary? Vocabulary { get; init; }
        public CharModelConfig Config { get; init; } = new();
        public int Seed { get; init; }
        public TrainingState State { get; init; } = new();

        public Header WithOptions(Func<TrainingOptions, TrainingOptions> edit) => this with { State = State with { Options = edit(State.Options) } };
    }

    /// <summary>One <c>__metadata__</c> key: how Save writes it and how Load reads it into a <see cref="Header"/>.</summary>
    private sealed record MetadataKey(string Name, Func<Header, string> Write, Func<MetadataValue, Header, Header> Read, bool Optional = false)
    {
        public bool IsTraining => Name.StartsWith("train.", StringComparison.Ordinal);
    }

    /// <summary>Access to <c>__metadata__</c> with one-line errors naming the file.</summary>
    private sealed class MetadataReader(SafeTensorsFile file)
    {
        public CheckpointFormatException Bad(string problem) => new($"{file.Source}: invalid checkpoint: {problem}.");

        public MetadataValue this[string key]
            => new(this, key, file.Metadata.TryGetValue(key, out var value) ? value : throw Bad($"metadata '{key}' is missing"));
    }

    /// <summary>One metadata value, parsed with range checks; errors name the key and the value.</summary>
    private readonly record struct MetadataValue(MetadataReader Reader, string Key, string Text)
    {
        /// <summary>The value on one line, cut to 40 characters, for error messages.</summary>
        public string Clipped
        {
            get
            {
                string one = Text.ReplaceLineEndings(" ");
                return one.Length <= 40 ? one : one[..40] + "...";
            }
        }

        public CheckpointFormatException Bad(string problem) => Reader.Bad(problem);

        public int Int(int min, int max) => (int)Long(min, max);

        public long Long(long min, long max)
        {
            if (!long.TryParse(Text, NumberStyles.AllowLeadingSign, Inv, out long value) || value < min || value > max)
                throw Bad($"metadata '{Key}' = '{Clipped}' is not an integer in [{min}, {max}]");
            return value;
        }

        public double Double(double min, double max)
        {
            if (!double.TryParse(Text, NumberStyles.Float, Inv, out double value) || double.IsNaN(value) || value < min || value > max)
                throw Bad($"metadata '{Key}' = '{Clipped}' is not a number in [{min.ToString(Inv)}, {max.ToString(Inv)}]");
            return value;
        }

        public TEnum Enum<TEnum>() where TEnum : struct, System.Enum
        {
            foreach (var value in System.Enum.GetValues<TEnum>())
                if (string.Equals(value.ToString(), Text, StringComparison.OrdinalIgnoreCase))
                    return value;
            throw Bad($"metadata '{Key}' = '{Clipped}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>()).ToLowerInvariant()}");
        }
    }
}
