namespace Autograd.Cli;

/// <summary>A user error the CLI reports as one line on stderr (no stack trace), exiting non-zero.</summary>
internal sealed class CliError(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    /// <summary>The process exit code to return (<see cref="ExitCodes"/>).</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;
    /// <summary>Bad input: a file, a value, a corrupt checkpoint.</summary>
    public const int Failure = 1;
    /// <summary>The command line itself could not be parsed.</summary>
    public const int Usage = 2;
    /// <summary>A bug: an exception nobody expected (still one line).</summary>
    public const int Internal = 70;
    /// <summary>Interrupted with Ctrl+C before anything useful was done.</summary>
    public const int Interrupted = 130;
}
