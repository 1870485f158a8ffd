using System.Text;

namespace Autograd.Cli;

/// <summary>Entry point of the <c>autograd</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        // Generated text may be any Unicode; do not let the terminal's locale mangle it.
        Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        int code = CliApp.Run(args);
        TrainCommand.EndJobIfPeersWait(args, code);
        return code;
    }
}
