using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Autograd.Nn.Serialization;
using Autograd.CharLm;
using Autograd.Distributed;

namespace Autograd.Cli;

/// <summary>
/// The command tree and the one place errors become output: every failure is one line on
/// stderr and a non-zero exit code, never a stack trace.
/// </summary>
public static class CliApp
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">The command line after the program name, e.g. <c>train --steps 20</c>.</param>
    /// <returns>0 on success; otherwise 1 (bad input), 2 (usage), 70 (internal error) or 130 (interrupted), with one line on stderr.</returns>
    public static int Run(string[] args)
    {
        // A plain Command named "autograd" rather than RootCommand, whose name is the assembly's.
        var root = new Command("autograd", "Train, evaluate and sample character-level recurrent language models (RNN, GRU, LSTM) in pure managed C#.")
        {
            new HelpOption(),
            new VersionOption(),
            TrainCommand.Create(),
            SampleCommand.Create(),
            EvalCommand.Create(),
            ExportCommand.Create(),
            GradCheckCommand.Create(),
        };

        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                string command = parse.CommandResult.Command == root ? "autograd" : $"autograd {parse.CommandResult.Command.Name}";
                return Fail($"{Describe(parse.Errors[0])} (see '{command} --help')", ExitCodes.Usage);
            }
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>A parse error's message, naming its option when the library's text does not.</summary>
    private static string Describe(ParseError error)
    {
        string message = string.Join(' ', error.Message.Split((char[])['\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
            .Replace("'System.Nullable`1[System.Int64]'", "integer").Replace("'System.Nullable`1[System.Double]'", "number")
            .Replace("'System.Int32'", "integer").Replace("'System.Int64'", "integer").Replace("'System.Double'", "number");
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is not null && !message.Contains(option.Name, StringComparison.Ordinal) ? $"{option.Name}: {message}" : message;
    }

    /// <summary>The option's value, or false when its text does not even convert (that error is reported separately).</summary>
    internal static bool TryGetValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>Turns an exception into one stderr line and an exit code.</summary>
    internal static int Report(Exception e)
    {
        var (message, code) = Classify(e);
        return Fail(message, code);
    }

    /// <summary>The message and exit code <see cref="Report"/> gives <paramref name="e"/>.</summary>
    internal static (string Message, int ExitCode) Classify(Exception e) => e switch
    {
        CliError cli => (cli.Message, cli.ExitCode),
        // MPI failing or missing, or ranks started differently: the job's setup, not a bug here.
        CheckpointFormatException or CorpusException or UnknownSymbolException
            or MpiException or MpiUnavailableException or RankMismatchException
            or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
            or IOException or ArgumentException or InvalidOperationException or OutOfMemoryException
            => (e.Message, ExitCodes.Failure),
        OperationCanceledException => ("interrupted.", ExitCodes.Interrupted),
        _ => ($"internal error ({e.GetType().Name}): {e.Message}", ExitCodes.Internal),
    };

    private static int Fail(string message, int code)
    {
        Console.Out.Flush();
        Console.Error.WriteLine("autograd: error: " + message.ReplaceLineEndings(" ").Trim());
        return code;
    }

    /// <summary>Whether the user wrote <paramref name="option"/> on the command line (not just its default).</summary>
    internal static bool Given(ParseResult parse, Option option)
        => parse.GetResult(option) is OptionResult { Implicit: false };

    /// <summary>An integer option that must be positive.</summary>
    internal static Option<int> PositiveInt(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (TryGetValue(r, out int v) && v <= 0) r.AddError($"{name} must be a positive integer, got {v}.");
        });
        return option;
    }

    /// <summary>A floating-point option with a lower bound (exclusive or inclusive).</summary>
    internal static Option<double> BoundedDouble(string name, string description, double defaultValue, double min, bool minInclusive, double max = double.MaxValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (!TryGetValue(r, out double v)) return;
            bool ok = double.IsFinite(v) && (minInclusive ? v >= min : v > min) && v <= max;
            if (!ok)
            {
                string range = (minInclusive ? $">= {min}" : $"> {min}") + (max < double.MaxValue ? $" and <= {max}" : "");
                r.AddError($"{name} must be a finite number {range}, got {v}.");
            }
        });
        return option;
    }
}
