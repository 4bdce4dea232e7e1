CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`address` text NOT NULL,
	`domain_id` integer NOT NULL,
	`password_hash` text NOT NULL,
	`modseq` integer DEFAULT 1 NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_address_unique` ON `accounts` (`address`);--> statement-breakpoint
CREATE TABLE `auth_failures` (
	`key` text PRIMARY KEY NOT NULL,
	`failures` integer NOT NULL,
	`last_failure` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `auth_known_addresses` (
	`account` text NOT NULL,
	`ip` text NOT NULL,
	`last_success` integer NOT NULL,
	PRIMARY KEY(`account`, `ip`)
);
--> statement-breakpoint
CREATE TABLE `blobs` (
	`id` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`refcount` integer DEFAULT 0 NOT NULL,
	`orphaned_at` integer
);
--> statement-breakpoint
CREATE INDEX `blobs_unreferenced` ON `blobs` (`orphaned_at`) WHERE refcount <= 0;--> statement-breakpoint
CREATE TABLE `certificates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`names` text NOT NULL,
	`key_pem` text NOT NULL,
	`cert_pem` text NOT NULL,
	`issuer` text NOT NULL,
	`not_after` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `counters` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `destroyed` (
	`account_id` integer NOT NULL,
	`kind` text NOT NULL,
	`object_id` integer NOT NULL,
	`thread_id` integer DEFAULT 0 NOT NULL,
	`modseq` integer NOT NULL,
	PRIMARY KEY(`account_id`, `kind`, `object_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `destroyed_modseq` ON `destroyed` (`account_id`,`modseq`);--> statement-breakpoint
CREATE TABLE `domains` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `domains_name_unique` ON `domains` (`name`);--> statement-breakpoint
CREATE TABLE `imap_metadata` (
	`account_id` integer NOT NULL,
	`mailbox_id` integer NOT NULL,
	`entry` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`account_id`, `mailbox_id`, `entry`)
);
--> statement-breakpoint
CREATE TABLE `imap_subscriptions` (
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	PRIMARY KEY(`account_id`, `name`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mailboxes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	`special_use` text,
	`uidvalidity` integer NOT NULL,
	`uidnext` integer DEFAULT 1 NOT NULL,
	`highest_modseq` integer DEFAULT 1 NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`unseen` integer DEFAULT 0 NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`subscribed` integer DEFAULT true NOT NULL,
	`created_modseq` integer DEFAULT 0 NOT NULL,
	`changed_modseq` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mailboxes_account_name` ON `mailboxes` (`account_id`,`name`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	`flags` integer DEFAULT 0 NOT NULL,
	`keywords` text DEFAULT '[]' NOT NULL,
	`internal_date` integer NOT NULL,
	`size` integer NOT NULL,
	`blob_id` text NOT NULL,
	`prefix` text DEFAULT '' NOT NULL,
	`envelope` text NOT NULL,
	`structure` text NOT NULL,
	`subject` text DEFAULT '' NOT NULL,
	`from_addr` text DEFAULT '' NOT NULL,
	`to_addr` text DEFAULT '' NOT NULL,
	`cc_addr` text DEFAULT '' NOT NULL,
	`bcc_addr` text DEFAULT '' NOT NULL,
	`message_id` text DEFAULT '' NOT NULL,
	`sent_date` integer,
	`preview` text DEFAULT '' NOT NULL,
	`email_id` integer DEFAULT 0 NOT NULL,
	`thread_id` integer DEFAULT 0 NOT NULL,
	`created_modseq` integer DEFAULT 0 NOT NULL,
	`saved_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`blob_id`) REFERENCES `blobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `messages_email` ON `messages` (`email_id`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_date` ON `messages` (`mailbox_id`,`internal_date`,`email_id`);--> statement-breakpoint
CREATE INDEX `messages_thread` ON `messages` (`thread_id`);--> statement-breakpoint
CREATE INDEX `messages_message_id` ON `messages` (`message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_mailbox_uid` ON `messages` (`mailbox_id`,`uid`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_modseq` ON `messages` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE INDEX `messages_deleted` ON `messages` (`mailbox_id`,`uid`) WHERE (flags & 8) <> 0;--> statement-breakpoint
CREATE TABLE `quotas` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`storage_kib` integer,
	`messages` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `spool` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`msg_id` text NOT NULL,
	`blob_id` text NOT NULL,
	`prefix` text DEFAULT '' NOT NULL,
	`mail_from` text NOT NULL,
	`recipient` text NOT NULL,
	`domain` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt` integer NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`last_error` text,
	`dsn` text,
	`internal` integer DEFAULT false NOT NULL,
	`warned` integer DEFAULT false NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`blob_id`) REFERENCES `blobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `spool_due` ON `spool` (`status`,`next_attempt`);--> statement-breakpoint
CREATE INDEX `spool_msg` ON `spool` (`msg_id`);--> statement-breakpoint
CREATE TABLE `tombstones` (
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	PRIMARY KEY(`mailbox_id`, `uid`),
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tombstones_modseq` ON `tombstones` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE TABLE `alias_domains` (
	`domain_id` integer PRIMARY KEY NOT NULL,
	`alias_of` integer,
	`catch_all` text
);
--> statement-breakpoint
CREATE TABLE `aliases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`address` text NOT NULL,
	`targets` text NOT NULL,
	`kind` text DEFAULT 'alias' NOT NULL,
	`members_only` integer DEFAULT false NOT NULL,
	`senders` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `aliases_address_unique` ON `aliases` (`address`);--> statement-breakpoint
CREATE TABLE `account_security` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`admin` integer DEFAULT false NOT NULL,
	`totp_secret` text,
	`totp_enabled` integer DEFAULT false NOT NULL,
	`totp_last_step` integer DEFAULT 0 NOT NULL,
	`recovery_codes` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `app_passwords` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `app_passwords_hash_unique` ON `app_passwords` (`hash`);--> statement-breakpoint
CREATE INDEX `app_passwords_account` ON `app_passwords` (`account_id`);--> statement-breakpoint
CREATE TABLE `health_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`check_id` text NOT NULL,
	`status` text NOT NULL,
	`summary` text NOT NULL,
	`signature` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `health_history_check` ON `health_history` (`check_id`,`at`);--> statement-breakpoint
CREATE TABLE `web_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` integer NOT NULL,
	`csrf` text NOT NULL,
	`complete` integer DEFAULT false NOT NULL,
	`ip` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `web_sessions_account` ON `web_sessions` (`account_id`);--> statement-breakpoint
CREATE TABLE `greylist_passed` (
	`net` text NOT NULL,
	`domain` text NOT NULL,
	`until` integer NOT NULL,
	PRIMARY KEY(`net`, `domain`)
);
--> statement-breakpoint
CREATE TABLE `greylist_triplets` (
	`net` text NOT NULL,
	`sender` text NOT NULL,
	`rcpt` text NOT NULL,
	`first_seen` integer NOT NULL,
	PRIMARY KEY(`net`, `sender`, `rcpt`)
);
--> statement-breakpoint
CREATE TABLE `jmap_identities` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`email` text NOT NULL,
	`reply_to` text,
	`bcc` text,
	`text_signature` text DEFAULT '' NOT NULL,
	`html_signature` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `jmap_submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`identity_id` text NOT NULL,
	`email_id` integer NOT NULL,
	`thread_id` integer NOT NULL,
	`envelope` text NOT NULL,
	`send_at` integer NOT NULL,
	`spool_id` text NOT NULL,
	`modseq` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jmap_submissions_account` ON `jmap_submissions` (`account_id`,`modseq`);--> statement-breakpoint
CREATE TABLE `jmap_vacation` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`is_enabled` integer DEFAULT false NOT NULL,
	`from_date` integer,
	`to_date` integer,
	`subject` text,
	`text_body` text,
	`html_body` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `jmap_vacation_sent` (
	`account_id` integer NOT NULL,
	`sender` text NOT NULL,
	`sent_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `sender`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `junk_contacts` (
	`account_id` integer NOT NULL,
	`address` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `address`)
);
--> statement-breakpoint
CREATE TABLE `junk_messages` (
	`account_id` integer NOT NULL,
	`blob_id` text NOT NULL,
	`state` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `blob_id`)
);
--> statement-breakpoint
CREATE TABLE `junk_senders` (
	`account_id` integer NOT NULL,
	`domain` text NOT NULL,
	`ham` integer NOT NULL,
	`spam` integer NOT NULL,
	PRIMARY KEY(`account_id`, `domain`)
);
--> statement-breakpoint
CREATE TABLE `junk_tokens` (
	`account_id` integer NOT NULL,
	`token` text NOT NULL,
	`spam` integer NOT NULL,
	`ham` integer NOT NULL,
	PRIMARY KEY(`account_id`, `token`)
);
--> statement-breakpoint
CREATE TABLE `junk_totals` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`spam` integer NOT NULL,
	`ham` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dkim_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`selector` text NOT NULL,
	`algorithm` text NOT NULL,
	`private_key` text NOT NULL,
	`public_key` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `migrate_copied` (
	`account_id` integer NOT NULL,
	`source` text NOT NULL,
	`folder` text NOT NULL,
	`uidvalidity` integer NOT NULL,
	`uid` integer NOT NULL,
	`message_id` text NOT NULL,
	PRIMARY KEY(`account_id`, `source`, `folder`, `uidvalidity`, `uid`)
);
--> statement-breakpoint
CREATE INDEX `migrate_copied_msgid` ON `migrate_copied` (`account_id`,`source`,`message_id`);