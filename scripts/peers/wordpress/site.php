<?php
/*
 * A WordPress site for one test, from Debian's `wordpress` package, without
 * its browser installer and without touching /etc/wordpress:
 *
 *   php site.php install DIR PORT DATABASE
 *       lays out DIR/wp (the document root for `php -S 127.0.0.1:PORT`):
 *       WordPress's entry scripts copied (WordPress finds its config next to
 *       wp-load.php), wp-admin and wp-includes linked, wp-content/uploads of
 *       its own and a wp-config.php for DATABASE; creates DATABASE, installs
 *       the site, an editor and an administrator with application passwords
 *       and one published post; prints them as JSON.
 *   php site.php drop DATABASE
 *       drops DATABASE.
 *
 * The database server is DIALOOG_TEST_WORDPRESS_DB_HOST (127.0.0.1:3306),
 * as DIALOOG_TEST_WORDPRESS_DB_USER (root) with
 * DIALOOG_TEST_WORDPRESS_DB_PASSWORD (empty). The WordPress code is
 * DIALOOG_TEST_WORDPRESS_ROOT (/usr/share/wordpress).
 */

error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE & ~E_WARNING);
ini_set('display_errors', 'stderr');

function env_or($name, $default) {
    $v = getenv($name);
    return $v === false ? $default : $v;
}

function fail($message) {
    fwrite(STDERR, "site.php: $message\n");
    exit(1);
}

$db_host = env_or('DIALOOG_TEST_WORDPRESS_DB_HOST', '127.0.0.1:3306');
$db_user = env_or('DIALOOG_TEST_WORDPRESS_DB_USER', 'root');
$db_password = env_or('DIALOOG_TEST_WORDPRESS_DB_PASSWORD', '');
$root = rtrim(env_or('DIALOOG_TEST_WORDPRESS_ROOT', '/usr/share/wordpress'), '/');

function server() {
    global $db_host, $db_user, $db_password;
    [$host, $port] = array_pad(explode(':', $db_host, 2), 2, '3306');
    mysqli_report(MYSQLI_REPORT_OFF);
    $m = @new mysqli($host, $db_user, $db_password, '', (int) $port);
    if ($m->connect_errno) {
        fail("no database server at $db_host as $db_user: {$m->connect_error}");
    }
    return $m;
}

function database_name($name) {
    if (!preg_match('/^dialoog_wp_[a-z0-9_]{1,40}$/', $name)) {
        fail("not a test database name: $name");
    }
    return $name;
}

$command = $argv[1] ?? '';

if ($command === 'drop') {
    $db = database_name($argv[2] ?? '');
    server()->query("DROP DATABASE IF EXISTS `$db`") or fail('cannot drop the database');
    exit(0);
}

if ($command !== 'install' || count($argv) !== 5) {
    fail('usage: site.php install DIR PORT DATABASE | site.php drop DATABASE');
}
[, , $dir, $port, $db] = $argv;
$db = database_name($db);
$port = (int) $port;
$docroot = rtrim($dir, '/') . '/wp';
$url = "http://127.0.0.1:$port";

// The document root: entry scripts copied, so that ABSPATH (wp-load.php's
// folder) is this site's; the libraries shared.
if (!is_file("$root/wp-load.php")) {
    fail("no WordPress at $root (apt-get install wordpress)");
}
@mkdir("$docroot/wp-content/uploads", 0777, true) or is_dir("$docroot/wp-content/uploads") or fail("cannot create $docroot");
foreach (glob("$root/*.php") as $f) {
    if (basename($f) !== 'wp-config.php') {
        copy($f, "$docroot/" . basename($f)) or fail("cannot copy $f");
    }
}
foreach (['wp-admin', 'wp-includes'] as $d) {
    symlink("$root/$d", "$docroot/$d") or fail("cannot link $d");
}
foreach (['themes', 'plugins'] as $d) {
    symlink("$root/wp-content/$d", "$docroot/wp-content/$d") or fail("cannot link wp-content/$d");
}

$salt = function () {
    return bin2hex(random_bytes(32));
};
$config = [
    'DB_NAME' => $db,
    'DB_USER' => $db_user,
    'DB_PASSWORD' => $db_password,
    'DB_HOST' => $db_host,
    'DB_CHARSET' => 'utf8mb4',
    'DB_COLLATE' => '',
    'WP_HOME' => $url,
    'WP_SITEURL' => $url,
    // Application passwords work over plain HTTP only on a 'local' site.
    'WP_ENVIRONMENT_TYPE' => 'local',
    // Nothing leaves the machine, and nothing runs behind the tests' backs.
    'WP_HTTP_BLOCK_EXTERNAL' => true,
    'DISABLE_WP_CRON' => true,
    'AUTOMATIC_UPDATER_DISABLED' => true,
    'WP_AUTO_UPDATE_CORE' => false,
    'WP_DEBUG' => false,
    'FS_METHOD' => 'direct',
];
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $k) {
    $config[$k] = $salt();
}
$php = "<?php\n// Written by scripts/peers/wordpress/site.php for one test.\n";
foreach ($config as $k => $v) {
    $php .= 'define(' . var_export($k, true) . ', ' . var_export($v, true) . ");\n";
}
$php .= "\$table_prefix = 'wp_';\n";
$php .= "if (!defined('ABSPATH')) { define('ABSPATH', __DIR__ . '/'); }\n";
$php .= "require_once ABSPATH . 'wp-settings.php';\n";
file_put_contents("$docroot/wp-config.php", $php) or fail('cannot write wp-config.php');

server()->query("CREATE DATABASE `$db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci") or fail("cannot create the database $db");

// Installing, as the browser installer would (wp-admin/install.php).
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = "127.0.0.1:$port";
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = (string) $port;
$_SERVER['REQUEST_URI'] = '/';
require "$docroot/wp-load.php";
// No mail goes out: there is no mail server, and nobody to read it.
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {}
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$admin_password = wp_generate_password(24, false);
$installed = wp_install('Bakkerij De Vries & Zn', 'beheerder', 'beheerder@bakkerij.test', false, '', $admin_password, '');
$admin_id = (int) $installed['user_id'];
if (!$admin_id) {
    fail('wp_install did not create the administrator');
}
// An empty site: without the sample post, its comment and the sample pages.
foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
    wp_delete_post($p->ID, true);
}
update_option('permalink_structure', '');
update_option('timezone_string', 'Europe/Amsterdam');

$editor_id = wp_insert_user([
    'user_login' => 'redactie',
    'user_pass' => wp_generate_password(24, false),
    'user_email' => 'redactie@bakkerij.test',
    'display_name' => 'Redactie',
    'role' => 'editor',
]);
if (is_wp_error($editor_id)) {
    fail('cannot create the editor: ' . $editor_id->get_error_message());
}

function app_password($user_id) {
    $made = WP_Application_Passwords::create_new_application_password($user_id, ['name' => 'Dialoog']);
    if (is_wp_error($made)) {
        fail('cannot create an application password: ' . $made->get_error_message());
    }
    // As WordPress shows it: in groups of four.
    return WP_Application_Passwords::chunk_password($made[0]);
}

$post_id = wp_insert_post([
    'post_title' => 'Kersttaarten',
    'post_content' => '<p>Vanaf vandaag te bestellen.</p>',
    'post_status' => 'publish',
    'post_author' => $editor_id,
    'comment_status' => 'open',
], true);
if (is_wp_error($post_id)) {
    fail('cannot create the post: ' . $post_id->get_error_message());
}

echo json_encode([
    'url' => $url,
    'docroot' => $docroot,
    'editor' => ['username' => 'redactie', 'id' => $editor_id, 'app_password' => app_password($editor_id)],
    'admin' => ['username' => 'beheerder', 'id' => $admin_id, 'app_password' => app_password($admin_id)],
    'post_id' => $post_id,
]), "\n";
