using System.CommandLine;
using System.Text;
using Autograd.CharLm;

namespace Autograd.Cli;

/// <summary><c>autograd sample</c>: generated text on stdout.</summary>
internal static class SampleCommand
{
    /// <summary>The <c>sample</c> subcommand with its options and action (registered by <see cref="CliApp"/>).</summary>
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint (.safetensors) written by train.", Required = true, HelpName = "FILE" };
        var length = CliApp.PositiveInt("--length", "Characters to generate.", 500);
        var temperature = CliApp.BoundedDouble("--temperature", "Softmax temperature (> 0): lower is more conservative.", 0.8, 0, minInclusive: false);
        var topK = new Option<int>("--top-k") { Description = "Sample only among the K most likely characters (0: all).", DefaultValueFactory = _ => 0, HelpName = "K" };
        topK.Validators.Add(r => { if (CliApp.TryGetValue(r, out int k) && k < 0) r.AddError($"--top-k must not be negative, got {k}."); });
        var prime = new Option<string>("--prime") { Description = "Text to start from; it is printed, then continued.", DefaultValueFactory = _ => "", HelpName = "TEXT" };
        var seed = new Option<int?>("--seed") { Description = "Random seed: the same checkpoint, options and seed give the same text (default: a random seed).", HelpName = "N" };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the most likely character (deterministic; ignores temperature, top-k, seed)." };

        var command = new Command("sample", "Generate text from a trained model.") { checkpoint, length, temperature, topK, prime, seed, greedy };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            var model = Autograd.CharLm.Checkpoint.Load(path).Model;
            string primeText = parse.GetValue(prime) ?? "";
            var options = new SamplingOptions
            {
                Length = parse.GetValue(length),
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                Greedy = parse.GetValue(greedy),
                Prime = primeText,
                Seed = parse.GetValue(seed) ?? Random.Shared.Next(),
            };
            IEnumerable<string> symbols;
            try
            {
                symbols = Sampler.Generate(model, options);
            }
            catch (UnknownSymbolException e)
            {
                throw UnknownCharacters.Error("--prime", e, path);
            }
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
            stdout.Write(primeText);
            bool endsWithNewline = primeText.EndsWith('\n');
            int count = 0;
            foreach (string symbol in symbols)
            {
                stdout.Write(symbol);
                endsWithNewline = symbol == "\n";
                if (++count % 64 == 0) stdout.Flush(); // stream as it is generated
            }
            if (!endsWithNewline) stdout.WriteLine();
            return ExitCodes.Success;
        });
        return command;
    }
}
