import { Command } from 'commander';
import { VERSION } from '../platform/version.js';
import { fail } from './output.js';
import { serveCommand, workerCommand } from './serve.js';
import { migrateCommand } from './migrate.js';
import { doctorCommand } from './doctor.js';
import { jobsCommand } from './jobs.js';
import { keysCommand } from './keys.js';
import { searchCommand } from './search.js';
import { emulatorCommand } from './emulator.js';
import { scanCommand } from './scan.js';
import { ingestCommand, wecomCommand } from './wecom.js';
import { grantsCommand } from './grants.js';
import { traceCommand } from './trace.js';
import { usersCommand } from './users.js';
import { policiesCommand } from './policies.js';
import { exportCommand, importCommand } from './archive.js';
import { auditCommand } from './audit.js';
import { evidenceCommand } from './evidence.js';
import { trainingCommand } from '../training/training.cli.js';

const program = new Command('vigil')
  .description('Vigil — compliance archive and supervision for WeCom (企业微信) conversations')
  .version(VERSION, '-v, --version')
  .option('-c, --config <file>', 'configuration file (default: $VIGIL_CONFIG or ./vigil.yaml)')
  .option('--debug', 'print stack traces on errors')
  .addHelpText(
    'after',
    `
Examples:
  $ vigil                          start with an embedded PostgreSQL and a demo corp (zero config)
  $ DATABASE_URL=postgres://vigil@db/vigil vigil serve
                                   API, console and background jobs on your PostgreSQL
  $ vigil worker                   background jobs only (run several for scale-out)
  $ vigil migrate --status         show applied and pending migrations
  $ vigil doctor                   check configuration, database and keys, with fixes
  $ vigil jobs list --status failed
  $ vigil keys rotate              new KEK version; rewraps every data key (with progress)
  $ vigil keys shred --corp demo --through 2021-06 --dry-run
  $ vigil search --corp demo '回扣 AND (返点 OR 好处费)' --from 2026-01-01
  $ vigil emulator --messages 50000  a local WeCom emulator with a synthetic corp
  $ vigil scan --template all --input messages.jsonl
  $ vigil wecom connect --corp acme --wecom-corp-id ww123 --secret-file secret --library ./libWeWorkFinanceSdk_C.so
  $ vigil wecom add-key --corp acme --version 3 --file private-v3.pem
  $ vigil ingest --once            pull, decrypt and archive until caught up (progress bar)
  $ vigil import old-archive.jsonl --corp acme    migrate from another archiver
  $ vigil export --corp acme --conversation 42 --output case-42.jsonl
  $ vigil policies install-templates --corp demo && vigil policies list
  $ vigil policies backtest --policy draft.yaml --corp demo --from 2026-10-01
  $ vigil users create --username li.lei --role compliance_officer --corp demo
  $ vigil audit verify             check the audit log's hash chain and Merkle checkpoints
  $ vigil evidence verify case-42.zip --trusted-key evidence-key.pem   check an evidence package offline
  $ vigil training import lms-export.csv --corp acme   training records (rejects listed by line)
`,
  );

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(workerCommand());
program.addCommand(migrateCommand());
program.addCommand(doctorCommand());
program.addCommand(jobsCommand());
program.addCommand(keysCommand());
program.addCommand(searchCommand());
program.addCommand(emulatorCommand());
program.addCommand(scanCommand());
program.addCommand(wecomCommand());
program.addCommand(ingestCommand());
program.addCommand(importCommand());
program.addCommand(exportCommand());
program.addCommand(policiesCommand());
program.addCommand(usersCommand());
program.addCommand(grantsCommand());
program.addCommand(traceCommand());
program.addCommand(auditCommand());
program.addCommand(evidenceCommand());
program.addCommand(trainingCommand());

program.parseAsync(process.argv).catch(fail);
