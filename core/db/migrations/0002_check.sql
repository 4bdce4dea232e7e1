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
