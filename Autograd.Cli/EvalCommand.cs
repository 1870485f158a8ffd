using System.CommandLine;
using System.Globalization;
using Autograd.CharLm;

namespace Autograd.Cli;

/// <summary><c>autograd eval</c>: the model's loss on a text; the last line is the result.</summary>
internal static class EvalCommand
{
    /// <summary>The <c>eval</c> subcommand with its options and action (registered by <see cref="CliApp"/>).</summary>
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint (.safetensors) written by train.", Required = true, HelpName = "FILE" };
        var data = new Option<string?>("--data") { Description = "UTF-8 text to evaluate on, all of it (default: the validation part, last 10%, of the embedded tiny Shakespeare).", HelpName = "FILE" };
        var command = new Command("eval", "Measure a model's loss on a text. The last line reads: loss: X nats/char (Y bits/char) over N chars.") { checkpoint, data };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            var model = Autograd.CharLm.Checkpoint.Load(path).Model;
            var corpus = CorpusSource.Load(parse.GetValue(data));
            int[] ids;
            try
            {
                ids = model.Vocabulary.Encode(corpus.Text, corpus.Name);
            }
            catch (UnknownSymbolException e)
            {
                throw UnknownCharacters.Error(corpus.Name, e, path);
            }
            if (corpus.IsDefault) ids = TextCorpus.Split(ids, 0.9).Validation;
            if (ids.Length < 2)
                throw new CliError($"{corpus.Name}: too short: {ids.Length} character(s) give nothing to predict; at least 2 are needed.");
            var result = Evaluator.Evaluate(model, ids);
            var inv = CultureInfo.InvariantCulture;
            var c = model.Config;
            Console.WriteLine($"checkpoint: {path} ({CharModelConfig.Name(c.Cell)}, hidden {c.HiddenSize}, {c.Layers} layer(s), {model.Vocabulary.Count} symbols)");
            Console.WriteLine($"data: {corpus.Name}{(corpus.IsDefault ? " (validation split)" : "")}");
            Console.WriteLine(string.Create(inv, $"loss: {result.NatsPerSymbol:F4} nats/char ({result.BitsPerSymbol:F4} bits/char) over {result.Symbols} chars"));
            return ExitCodes.Success;
        });
        return command;
    }
}
