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

    /// <summary>Writes <paramref name="model"/> (and <paramref name="state"/>, if given) to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    /// <exception cref="InvalidOperationException">A weight is NaN or infinite: such a model is never written.</exception>
    public static void Save(string path, CharLanguageModel model, TrainingState? state = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        var writer = new SafeTensorsWriter();
        foreach (var (name, parameter) in model.Network.NamedParameters())
        {
            foreach (float v in parameter.AsSpan())
                if (!float.IsFinite(v))
                    throw new InvalidOperationException($"Checkpoint.Save: refusing to write {path}: parameter '{name}' holds a non-finite value ({v.ToString(Inv)}).");
            writer.Add(name, parameter);
        }

        writer.SetMetadata("format", FormatName)
              .SetMetadata("format_version", FormatVersion.ToString(Inv))
              .SetMetadata("vocab", model.Vocabulary.Symbols)
              .SetMetadata("model.cell", CharModelConfig.Name(model.Config.Cell))
              .SetMetadata("model.hidden_size", model.Config.HiddenSize.ToString(Inv))
              .SetMetadata("model.layers", model.Config.Layers.ToString(Inv))
              .SetMetadata("model.dropout", model.Config.Dropout.ToString("R", Inv))
              .SetMetadata("model.seed", model.Seed.ToString(Inv));

        if (state is not null)
        {
            var o = state.Options;
            writer.SetMetadata("train.step", state.Step.ToString(Inv))
                  .SetMetadata("train.batch_position", state.BatchPosition.ToString(Inv))
                  .SetMetadata("train.best_val_loss", state.BestValidationLoss.ToString("R", Inv))
                  .SetMetadata("train.elapsed_s", state.ElapsedSeconds.ToString("R", Inv))
                  .SetMetadata("train.seq_len", o.SequenceLength.ToString(Inv))
                  .SetMetadata("train.batch", o.BatchSize.ToString(Inv))
                  .SetMetadata("train.lr", o.LearningRate.ToString("R", Inv))
                  .SetMetadata("train.optimizer", o.Optimizer.ToString().ToLowerInvariant())
                  .SetMetadata("train.momentum", o.Momentum.ToString("R", Inv))
                  .SetMetadata("train.clip", o.ClipNorm.ToString("R", Inv))
                  .SetMetadata("train.schedule", o.Schedule.ToString().ToLowerInvariant())
                  .SetMetadata("train.final_lr_factor", o.FinalLearningRateFactor.ToString("R", Inv))
                  .SetMetadata("train.seed", o.Seed.ToString(Inv));
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

    /// <summary>Loads and validates a checkpoint.</summary>
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

        string format = meta.Required("format");
        if (format != FormatName)
            throw meta.Bad($"format is '{format}', expected '{FormatName}'");
        int version = meta.Int("format_version", 1, int.MaxValue);
        if (version != FormatVersion)
            throw meta.Bad($"format version {version} is not supported (this build reads version {FormatVersion})");

        Vocabulary vocabulary;
        try
        {
            vocabulary = Vocabulary.FromSymbols(meta.Required("vocab"));
        }
        catch (ArgumentException e)
        {
            throw meta.Bad($"metadata 'vocab' is not a valid vocabulary ({e.Message})");
        }

        if (!CharModelConfig.TryParseCell(meta.Required("model.cell"), out var cell))
            throw meta.Bad($"metadata 'model.cell' = '{meta.Required("model.cell")}' is not one of {string.Join(", ", RecurrentCell.All.Select(c => c.Name))}");
        var config = new CharModelConfig(
            cell,
            meta.Int("model.hidden_size", 1, CharModelConfig.MaxHiddenSize),
            meta.Int("model.layers", 1, CharModelConfig.MaxLayers),
            meta.Double("model.dropout", 0, 0.999999));
        int seed = meta.Int("model.seed", int.MinValue, int.MaxValue);

        // Bound what building the model allocates by what the file actually holds.
        long needed = config.ParameterCount(vocabulary.Count);
        long held = file.Names.Where(n => !IsTrainingTensor(n))
                              .Sum(n => (long)file.GetInfo(n).ElementCount);
        if (needed != held)
            throw meta.Bad($"the configuration ({CharModelConfig.Name(cell)}, hidden {config.HiddenSize}, {config.Layers} layer(s), {vocabulary.Count} symbols) has {needed} parameters but the file holds {held} model values");

        // Every name, shape and value is checked against the configuration before anything is
        // built, so a refused file costs no more than reading it.
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < config.Layers; i++)
        {
            int input = i == 0 ? vocabulary.Count : config.HiddenSize;
            int output = i == config.Layers - 1 ? vocabulary.Count : config.HiddenSize;
            foreach (var (local, shape) in RecurrentLayer<float>.Layout(cell, input, config.HiddenSize, output))
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

        var model = new CharLanguageModel(vocabulary, config, seed);
        model.Network.LoadStateDict(expected.ToDictionary(name => name, file.GetTensor<float>, StringComparer.Ordinal));

        TrainingState? training = null;
        if (file.Metadata.ContainsKey("train.step"))
        {
            var parameters = model.Network.NamedParameters().Select((p, i) => (p.Name, p.Parameter, Index: i))
                                                            .ToDictionary(p => p.Name, StringComparer.Ordinal);
            var optimizerState = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
            foreach (var name in file.Names.Where(n => n.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
            {
                string key = name[OptimizerPrefix.Length..];
                var tensor = file.GetTensor<float>(name);
                CheckFinite(tensor, name, meta);
                if (key == "step")
                {
                    if (tensor.Length != 1 || tensor.AsSpan()[0] < 0)
                        throw meta.Bad($"tensor '{name}' is not a single non-negative step count");
                    optimizerState.Add(key, tensor);
                    continue;
                }
                int dot = key.IndexOf('.');
                if (dot <= 0 || !parameters.TryGetValue(key[(dot + 1)..], out var parameter))
                    throw meta.Bad($"optimizer tensor '{name}' names no model parameter");
                if (!tensor.Shape.SequenceEqual(parameter.Parameter.Shape))
                    throw meta.Bad($"optimizer tensor '{name}' has shape [{string.Join(", ", tensor.Shape.ToArray())}], its parameter [{string.Join(", ", parameter.Parameter.Shape.ToArray())}]");
                optimizerState.Add($"{key[..dot]}.{parameter.Index.ToString(Inv)}", tensor);
            }
            var carried = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
            var layers = model.Network.Layers;
            foreach (var name in file.Names.Where(n => n.StartsWith(CarryPrefix, StringComparison.Ordinal)))
            {
                string key = name[CarryPrefix.Length..];
                var parts = key.Split('.');
                if (parts.Length != 3 || parts[0] != "layers" || !int.TryParse(parts[1], NumberStyles.None, Inv, out int layer)
                    || layer >= layers.Count || !(layers[layer] is RecurrentLayer<float> r && r.Cell.StateNames.Contains(parts[2])))
                    throw meta.Bad($"carried-state tensor '{name}' names no layer state");
                var tensor = file.GetTensor<float>(name);
                if (tensor.Rank != 2 || tensor.Size(1) != config.HiddenSize)
                    throw meta.Bad($"carried-state tensor '{name}' has shape [{string.Join(", ", tensor.Shape.ToArray())}], expected [batch, {config.HiddenSize}]");
                CheckFinite(tensor, name, meta);
                carried.Add(key, tensor);
            }
            var options = new TrainingOptions
            {
                SequenceLength = meta.Int("train.seq_len", 1, int.MaxValue),
                BatchSize = meta.Int("train.batch", 1, int.MaxValue),
                LearningRate = meta.Double("train.lr", double.Epsilon, double.MaxValue),
                Optimizer = meta.Enum<OptimizerKind>("train.optimizer"),
                Momentum = meta.Double("train.momentum", 0, 0.999999),
                ClipNorm = meta.Double("train.clip", 0, double.MaxValue),
                Schedule = meta.Enum<LearningRateSchedule>("train.schedule"),
                FinalLearningRateFactor = meta.Double("train.final_lr_factor", double.Epsilon, 1),
                Seed = meta.Int("train.seed", int.MinValue, int.MaxValue),
            };
            training = new TrainingState
            {
                Step = meta.Long("train.step", 0, long.MaxValue),
                BatchPosition = meta.Long("train.batch_position", 0, long.MaxValue),
                BestValidationLoss = meta.Double("train.best_val_loss", 0, double.PositiveInfinity),
                ElapsedSeconds = meta.Double("train.elapsed_s", 0, double.MaxValue),
                Options = options,
                OptimizerState = optimizerState,
                CarriedState = carried,
            };
        }
        else if (file.Names.Any(IsTrainingTensor))
        {
            throw meta.Bad("optimizer or carried-state tensors without training metadata");
        }
        return new CheckpointContents(model, training);
    }

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

    /// <summary>Typed, range-checked access to <c>__metadata__</c> with one-line errors.</summary>
    private sealed class MetadataReader(SafeTensorsFile file)
    {
        public CheckpointFormatException Bad(string problem) => new($"{file.Source}: invalid checkpoint: {problem}.");

        public string Required(string key)
            => file.Metadata.TryGetValue(key, out var value) ? value : throw Bad($"metadata '{key}' is missing");

        public int Int(string key, int min, int max) => (int)Long(key, min, max);

        public long Long(string key, long min, long max)
        {
            string text = Required(key);
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, Inv, out long value) || value < min || value > max)
                throw Bad($"metadata '{key}' = '{Clip(text)}' is not an integer in [{min}, {max}]");
            return value;
        }

        public double Double(string key, double min, double max)
        {
            string text = Required(key);
            if (!double.TryParse(text, NumberStyles.Float, Inv, out double value) || double.IsNaN(value) || value < min || value > max)
                throw Bad($"metadata '{key}' = '{Clip(text)}' is not a number in [{min.ToString(Inv)}, {max.ToString(Inv)}]");
            return value;
        }

        public TEnum Enum<TEnum>(string key) where TEnum : struct, System.Enum
        {
            string text = Required(key);
            foreach (var value in System.Enum.GetValues<TEnum>())
                if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
                    return value;
            throw Bad($"metadata '{key}' = '{Clip(text)}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>()).ToLowerInvariant()}");
        }

        private static string Clip(string text)
        {
            string one = text.ReplaceLineEndings(" ");
            return one.Length <= 40 ? one : one[..40] + "...";
        }
    }
}
