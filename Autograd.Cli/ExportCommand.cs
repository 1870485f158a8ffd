using System.CommandLine;
using Autograd.Onnx;

namespace Autograd.Cli;

/// <summary><c>autograd export</c>: a checkpoint as an ONNX model (standard RNN/GRU/LSTM operators).</summary>
internal static class ExportCommand
{
    /// <summary>The <c>export</c> subcommand with its options and action (registered by <see cref="CliApp"/>).</summary>
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint (.safetensors) written by train.", Required = true, HelpName = "FILE" };
        var output = new Option<string>("--out") { Description = "The ONNX file to write.", Required = true, HelpName = "FILE.onnx" };
        var input = new Option<string>("--input") { Description = "Model input: ids (int64 class ids, batch × time) or features (float one-hot, batch × time × vocab).", DefaultValueFactory = _ => "ids" };
        var timeFirst = new Option<bool>("--time-first") { Description = "Time-major input and output (time × batch) instead of batch-first." };
        var noState = new Option<bool>("--no-state") { Description = "No initial_h/initial_c inputs: every run starts from zeros." };
        var command = new Command("export", "Export a trained model to ONNX (LSTM, GRU with the right linear_before_reset, RNN; vocabulary in the metadata).")
        {
            checkpoint, output, input, timeFirst, noState,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            string outPath = parse.GetValue(output)!;
            var kind = parse.GetValue(input) switch
            {
                "ids" => OnnxInputKind.Ids,
                "features" => OnnxInputKind.Features,
                var other => throw new CliError($"--input: '{other}' is not one of ids, features."),
            };
            var model = Autograd.CharLm.Checkpoint.Load(path).Model;
            var vocab = Enumerable.Range(0, model.Vocabulary.Count).Select(i => model.Vocabulary[i].ToString()).ToArray();
            string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (dir is not null && !Directory.Exists(dir)) throw new CliError($"--out: folder {dir} does not exist.");
            // Export writes atomically (AtomicFile): a failure never leaves half a model.
            OnnxExporter.Export(model.Network, outPath, new OnnxExportOptions
            {
                Vocabulary = vocab,
                Input = kind,
                BatchFirst = !parse.GetValue(timeFirst),
                StateInputs = !parse.GetValue(noState),
                Description = $"autograd export of {Path.GetFileName(path)}",
            });
            var c = model.Config;
            Console.WriteLine($"wrote {outPath} ({Autograd.CharLm.CharModelConfig.Name(c.Cell)}, hidden {c.HiddenSize}, {c.Layers} layer(s), {vocab.Length} symbols)");
            return ExitCodes.Success;
        });
        return command;
    }
}
